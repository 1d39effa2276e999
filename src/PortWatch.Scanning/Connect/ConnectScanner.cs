using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Connect;

/// <summary>
/// Full connect() scanning for runs without raw sockets (no root, no CAP_NET_RAW), IPv6
/// included. Same states where the socket API can tell them apart: connected is open,
/// refused closed, a timeout after the retries (or an ICMP unreachable) filtered.
///
/// Scanning one of this machine's own addresses has a trap: when the kernel happens to pick
/// the destination port as the ephemeral source port, TCP simultaneous open connects the
/// socket to itself and the port looks open though nothing listens. Such a connection
/// (local endpoint equal to remote endpoint) is discarded and the port reported closed.
/// </summary>
public sealed class ConnectScanner(Func<AddressFamily, Socket>? socketFactory = null)
{
    private readonly Func<AddressFamily, Socket> newSocket = socketFactory ?? (family => new Socket(family, SocketType.Stream, ProtocolType.Tcp));

    public IAsyncEnumerable<PortResult> ScanAsync(
        TargetSet targets,
        IReadOnlyList<ushort> ports,
        ScanOptions options,
        IProgress<ScanProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        ProbeSchedule.RunAsync(targets, ports, options, (endpoint, ct) => ProbeAsync(endpoint, options, ct), progress, cancellationToken);

    /// <summary>Tries a port up to 1 + Retries times; null only when cancelled.</summary>
    private async Task<PortResult?> ProbeAsync(IPEndPoint endpoint, ScanOptions options, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt <= options.Retries; attempt++)
        {
            using var socket = newSocket(endpoint.AddressFamily);
            // Close with RST: thousands of sockets in TIME_WAIT would exhaust local ports.
            socket.LingerState = new LingerOption(true, 0);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Timeout);
            try
            {
                await socket.ConnectAsync(endpoint, timeout.Token);
                if (IsSelfConnect(socket))
                    return new PortResult(endpoint.Address, (ushort)endpoint.Port, PortProtocol.Tcp, PortStatus.Closed, "self-connect", null);
                return new PortResult(endpoint.Address, (ushort)endpoint.Port, PortProtocol.Tcp, PortStatus.Open, "syn-ack", null);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            catch (OperationCanceledException)
            {
                // timed out: try again
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                return new PortResult(endpoint.Address, (ushort)endpoint.Port, PortProtocol.Tcp, PortStatus.Closed, "conn-refused", null);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostUnreachable or SocketError.NetworkUnreachable)
            {
                return new PortResult(endpoint.Address, (ushort)endpoint.Port, PortProtocol.Tcp, PortStatus.Filtered, "host-unreach", null);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
            {
                // the kernel gave up before our timeout: try again
            }
        }
        return new PortResult(endpoint.Address, (ushort)endpoint.Port, PortProtocol.Tcp, PortStatus.Filtered, "no-response", null);
    }

    /// <summary>TCP simultaneous open onto itself: the local and remote endpoints are the same.</summary>
    public static bool IsSelfConnect(Socket socket) =>
        socket.LocalEndPoint is IPEndPoint local && socket.RemoteEndPoint is IPEndPoint remote
        && local.Port == remote.Port && IpAddressMath.Normalize(local.Address).Equals(IpAddressMath.Normalize(remote.Address));
}
