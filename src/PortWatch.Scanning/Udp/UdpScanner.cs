using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Connect;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Udp;

/// <summary>
/// UDP probing with connected datagram sockets (no raw privileges needed): a reply means open,
/// an ICMP port unreachable (which Linux reports on a connected socket as "refused") means
/// closed, other ICMP unreachables filtered, and silence after the retries open|filtered.
/// Targets rate-limit ICMP errors, so a closed port may also look open|filtered: nmap has the
/// same limit, and it is why UDP scans are kept to a short port list.
/// </summary>
public sealed class UdpScanner(Func<AddressFamily, Socket>? socketFactory = null)
{
    private readonly Func<AddressFamily, Socket> newSocket = socketFactory ?? (family => new Socket(family, SocketType.Dgram, ProtocolType.Udp));

    public IAsyncEnumerable<PortResult> ScanAsync(
        TargetSet targets,
        IReadOnlyList<ushort> ports,
        ScanOptions options,
        CancellationToken cancellationToken = default) =>
        ProbeSchedule.RunAsync(targets, ports, options, (endpoint, ct) => ProbeAsync(endpoint, options, ct), null, cancellationToken);

    private async Task<PortResult?> ProbeAsync(IPEndPoint endpoint, ScanOptions options, CancellationToken cancellationToken)
    {
        using var socket = newSocket(endpoint.AddressFamily);
        var port = (ushort)endpoint.Port;
        var payload = UdpPayloads.For(port);
        var buffer = new byte[2048];
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            // Sending to one of our own addresses from the same port would hear our own datagram: not an answer.
            if (ConnectScanner.IsSelfConnect(socket))
                return Result(endpoint, PortStatus.Closed, "self-connect");
            for (var attempt = 0; attempt <= options.Retries; attempt++)
            {
                await socket.SendAsync(payload, SocketFlags.None, cancellationToken);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.Timeout);
                try
                {
                    await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                    return Result(endpoint, PortStatus.Open, "udp-response");
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // no answer yet: send again
                }
            }
            return Result(endpoint, PortStatus.OpenFiltered, "no-response");
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return Result(endpoint, PortStatus.Closed, "port-unreach");
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.AccessDenied)
        {
            return Result(endpoint, PortStatus.Filtered, "host-unreach");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static PortResult Result(IPEndPoint endpoint, PortStatus status, string reason) =>
        new(endpoint.Address, (ushort)endpoint.Port, PortProtocol.Udp, status, reason, null);
}
