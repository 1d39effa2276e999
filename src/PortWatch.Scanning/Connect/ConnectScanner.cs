using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using PortWatch.Scanning.Permutation;
using PortWatch.Scanning.Syn;
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

    public async IAsyncEnumerable<PortResult> ScanAsync(
        TargetSet targets,
        IReadOnlyList<ushort> ports,
        ScanOptions options,
        IProgress<ScanProgress>? progress = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (ports.Count == 0)
            yield break;
        var results = Channel.CreateUnbounded<PortResult>(new UnboundedChannelOptions { SingleReader = true });
        var producer = Task.Run(() => RunAsync(targets, ports, options, results.Writer, progress, cancellationToken), CancellationToken.None);
        await foreach (var result in results.Reader.ReadAllAsync(CancellationToken.None))
            yield return result;
        await producer;
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task RunAsync(TargetSet targets, IReadOnlyList<ushort> ports, ScanOptions options,
        ChannelWriter<PortResult> results, IProgress<ScanProgress>? progress, CancellationToken cancellationToken)
    {
        var permutation = new IndexPermutation(checked(targets.Count * (ulong)ports.Count), options.Seed);
        using var slots = new SemaphoreSlim(options.Concurrency);
        var bucket = new TokenBucket(options.RatePps);
        var started = DateTime.UtcNow;
        long attempted = 0, answered = 0;
        var open = 0;
        var pending = new List<Task>();
        try
        {
            for (var position = options.StartPosition; position < permutation.Size; position++)
            {
                await slots.WaitAsync(cancellationToken);
                bucket.Take(cancellationToken);
                var index = permutation.Permute(position);
                var address = targets.AddressAt(index / (ulong)ports.Count);
                var port = ports[(int)(index % (ulong)ports.Count)];
                pending.Add(Task.Run(async () =>
                {
                    try
                    {
                        var result = await ProbeAsync(new IPEndPoint(address, port), options, cancellationToken);
                        if (result is { } r)
                        {
                            Interlocked.Increment(ref answered);
                            if (r.Status == PortStatus.Open)
                                Interlocked.Increment(ref open);
                            results.TryWrite(r);
                        }
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None));
                attempted++;
                if (pending.Count >= 4096)
                    pending.RemoveAll(t => t.IsCompleted);
                if (progress is not null && (attempted & 1023) == 0)
                    progress.Report(Snapshot(permutation.Size, attempted, answered, open, started, position, options));
            }
            await Task.WhenAll(pending);
            progress?.Report(Snapshot(permutation.Size, attempted, answered, open, started, permutation.Size, options));
            results.TryComplete();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            results.TryComplete();
        }
        catch (Exception ex)
        {
            results.TryComplete(ex);
            throw;
        }
    }

    private static ScanProgress Snapshot(ulong total, long attempted, long answered, int open, DateTime started, ulong position, ScanOptions options)
    {
        var elapsed = DateTime.UtcNow - started;
        var rate = elapsed.TotalSeconds > 0 ? attempted / elapsed.TotalSeconds : 0;
        var remaining = total - Math.Min(total, position);
        // Every probe in flight may still be running; the safe resume point is behind them.
        var checkpoint = position > (ulong)options.Concurrency ? position - (ulong)options.Concurrency : options.StartPosition;
        return new ScanProgress(total, (ulong)attempted, (ulong)answered, rate, elapsed,
            rate > 0 ? TimeSpan.FromSeconds(remaining / rate) : null, open, Math.Max(checkpoint, options.StartPosition), 0);
    }

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
