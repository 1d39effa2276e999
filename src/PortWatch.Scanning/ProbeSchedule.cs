using System.Net;
using PortWatch.Scanning.Permutation;
using PortWatch.Scanning.Syn;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning;

/// <summary>
/// The schedule of the socket-per-probe engines (connect, UDP): the target×port space in the
/// seeded order from the start position, at the configured rate, with at most
/// <see cref="ScanOptions.Concurrency"/> probes in flight, results streamed as each completes.
/// </summary>
public static class ProbeSchedule
{
    public static IAsyncEnumerable<PortResult> RunAsync(
        TargetSet targets,
        IReadOnlyList<ushort> ports,
        ScanOptions options,
        Func<IPEndPoint, CancellationToken, Task<PortResult?>> probe,
        IProgress<ScanProgress>? progress,
        CancellationToken cancellationToken) =>
        ports.Count == 0
            ? AsyncEnumerable.Empty<PortResult>()
            : ResultStream.Create<PortResult>(async results =>
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
                        var endpoint = new IPEndPoint(targets.AddressAt(index / (ulong)ports.Count), ports[(int)(index % (ulong)ports.Count)]);
                        pending.Add(Task.Run(async () =>
                        {
                            try
                            {
                                if (await probe(endpoint, cancellationToken) is { } result)
                                {
                                    Interlocked.Increment(ref answered);
                                    if (result.Status == PortStatus.Open)
                                        Interlocked.Increment(ref open);
                                    results.TryWrite(result);
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
                }
                finally
                {
                    // Let probes in flight finish (they stop early when cancelled) before the stream ends.
                    await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
                }
                progress?.Report(Snapshot(permutation.Size, attempted, answered, open, started, permutation.Size, options));
            }, cancellationToken);

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
}
