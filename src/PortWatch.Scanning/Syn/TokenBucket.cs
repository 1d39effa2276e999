using System.Diagnostics;

namespace PortWatch.Scanning.Syn;

/// <summary>
/// Paces sends to a rate in packets per second, with a burst of at most <see cref="Burst"/>
/// packets above it in any window, however long the sender stalled before: the limit exists to
/// keep shared NAT gateways' conntrack tables alive, so it must hold over every few milliseconds,
/// not only on average. A stall earns no credit beyond the burst (the generic cell rate
/// algorithm: each packet has a theoretical send time one interval after the previous one's, and
/// may go at most <c>burst - 1</c> intervals early).
/// Sleeping for the bulk of a gap and spinning for the rest keeps the rate accurate at 100k+ pps
/// without a core pinned at 100% for slow rates. One sender at a time.
/// </summary>
public sealed class TokenBucket
{
    private double interval;
    private double tolerance;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private double theoretical = double.NegativeInfinity;

    /// <summary>The least default burst: a sender descheduled for a few milliseconds on a busy machine makes up those
    /// few packets instead of falling behind for good (at 1,000 pps a burst of one lost 40% of the rate under load).</summary>
    public const int MinimumDefaultBurst = 10;

    /// <param name="burst">Packets that may go at once after a pause; default one millisecond of the rate, at least
    /// <see cref="MinimumDefaultBurst"/>.</param>
    public TokenBucket(int packetsPerSecond, int? burst = null) => Configure(packetsPerSecond, burst);

    public int Burst { get; private set; }

    public int PacketsPerSecond { get; private set; }

    /// <summary>A new rate from now on, with the default burst for it. The sender's thread only.</summary>
    public void SetRate(int packetsPerSecond) => Configure(packetsPerSecond, null);

    private void Configure(int packetsPerSecond, int? burst)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(packetsPerSecond, 1);
        PacketsPerSecond = packetsPerSecond;
        Burst = Math.Max(1, burst ?? Math.Max(MinimumDefaultBurst, packetsPerSecond / 1000));
        interval = Stopwatch.Frequency / (double)packetsPerSecond;
        tolerance = (Burst - 1) * interval;
    }

    /// <summary>The stopwatch ticks this bucket's times are in.</summary>
    public static long Frequency => Stopwatch.Frequency;

    /// <summary>Books the next packet: the time (in ticks of this bucket's clock) at which it may be sent, never before <paramref name="now"/>.</summary>
    public long Reserve(long now)
    {
        var at = Math.Max(now, theoretical - tolerance);
        theoretical = Math.Max(theoretical, at) + interval;
        return (long)Math.Ceiling(at);
    }

    /// <summary>Waits until the next packet may be sent (or the token is cancelled); <paramref name="beforeWaiting"/> runs
    /// first when there is a wait (a batching sender puts what it holds on the wire then, so no packet is held past its time).</summary>
    public void Take(CancellationToken cancellationToken, Action? beforeWaiting = null)
    {
        var at = Reserve(clock.ElapsedTicks);
        if (at > clock.ElapsedTicks)
            beforeWaiting?.Invoke();
        while (!cancellationToken.IsCancellationRequested)
        {
            var wait = at - clock.ElapsedTicks;
            if (wait <= 0)
                return;
            if (wait > Stopwatch.Frequency / 500) // more than 2 ms: sleep, then spin the rest
                Thread.Sleep(1);
            else
                Thread.SpinWait(50);
        }
    }
}
