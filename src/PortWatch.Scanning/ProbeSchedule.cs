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
            : ResultStream.CreateScan(async results =>
            {
                var permutation = new IndexPermutation(checked(targets.Count * (ulong)ports.Count), options.Seed);
                using var slots = new SemaphoreSlim(options.Concurrency);
                var bucket = new TokenBucket(options.RatePps);
                var started = DateTime.UtcNow;
                long attempted = 0, answered = 0;
                var open = 0;
                var pending = new List<Task>();
                // Positions started but not finished: the checkpoint is the lowest of them, so every
                // position before it has its result in the stream already.
                var inFlight = new SortedSet<ulong>();
                var next = options.StartPosition;
                var gate = new object();
                try
                {
                    for (var position = options.StartPosition; position < permutation.Size; position++)
                    {
                        await slots.WaitAsync(cancellationToken);
                        bucket.Take(cancellationToken);
                        var index = permutation.Permute(position);
                        var endpoint = new IPEndPoint(targets.AddressAt(index / (ulong)ports.Count), ports[(int)(index % (ulong)ports.Count)]);
                        var mine = position;
                        lock (gate)
                        {
                            inFlight.Add(mine);
                            next = mine + 1;
                        }
                        pending.Add(Task.Run(async () =>
                        {
                            try
                            {
                                if (await probe(endpoint, cancellationToken) is { } result)
                                {
                                    Interlocked.Increment(ref answered);
                                    if (result.Status == PortStatus.Open)
                                        Interlocked.Increment(ref open);
                                    await results.ResultAsync(result with { Position = mine });
                                    ulong checkpoint;
                                    lock (gate)
                                    {
                                        inFlight.Remove(mine);
                                        checkpoint = inFlight.Count > 0 ? inFlight.Min : next;
                                        var done = Interlocked.Read(ref answered);
                                        if (progress is not null && (done & 255) == 0)
                                            results.TryProgress(Snapshot(permutation.Size, Interlocked.Read(ref attempted), done, Volatile.Read(ref open), started, checkpoint, options));
                                    }
                                }
                            }
                            finally
                            {
                                slots.Release();
                            }
                        }, CancellationToken.None));
                        Interlocked.Increment(ref attempted);
                        if (pending.Count >= 4096)
                            pending.RemoveAll(t => t.IsCompleted);
                    }
                }
                finally
                {
                    // Let probes in flight finish (they stop early when cancelled) before the stream ends.
                    await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
                }
                if (progress is not null)
                    await results.ProgressAsync(Snapshot(permutation.Size, attempted, answered, open, started, permutation.Size, options));
            }, progress, cancellationToken);

    private static ScanProgress Snapshot(ulong total, long attempted, long answered, int open, DateTime started, ulong checkpoint, ScanOptions options)
    {
        var elapsed = DateTime.UtcNow - started;
        var rate = elapsed.TotalSeconds > 0 ? attempted / elapsed.TotalSeconds : 0;
        var remaining = total - Math.Min(total, checkpoint);
        return new ScanProgress(total, (ulong)attempted, (ulong)attempted, (ulong)answered, rate, elapsed,
            rate > 0 ? TimeSpan.FromSeconds(remaining / rate) : null, open, Math.Max(checkpoint, options.StartPosition)) { Rate = options.RatePps };
    }
}
