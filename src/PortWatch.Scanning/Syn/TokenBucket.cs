using System.Diagnostics;

namespace PortWatch.Scanning.Syn;

/// <summary>
/// Paces sends to a rate in packets per second with a small burst allowance. Sleeping for the
/// bulk of a gap and spinning for the rest keeps the rate accurate at 100k+ pps without a core
/// pinned at 100% for slow rates.
/// </summary>
public sealed class TokenBucket
{
    private readonly double ratePerTick;
    private readonly long burst;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private long taken;

    public TokenBucket(int packetsPerSecond, int burst = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(packetsPerSecond, 1);
        ratePerTick = packetsPerSecond / (double)Stopwatch.Frequency;
        this.burst = Math.Max(1, Math.Min(burst, packetsPerSecond / 100 + 1));
    }

    public void Take(CancellationToken cancellationToken)
    {
        taken++;
        while (true)
        {
            var available = clock.ElapsedTicks * ratePerTick + burst;
            if (taken <= available || cancellationToken.IsCancellationRequested)
                return;
            var waitSeconds = (taken - available) / (ratePerTick * Stopwatch.Frequency);
            if (waitSeconds > 0.002)
                Thread.Sleep(1);
            else
                Thread.SpinWait(50);
        }
    }
}
