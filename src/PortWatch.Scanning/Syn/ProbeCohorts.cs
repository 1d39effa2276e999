using System.Diagnostics;

namespace PortWatch.Scanning.Syn;

/// <summary>
/// What the rate controller learns from: probes grouped by first send into 100 ms cohorts (a
/// ring of 256), each with the rate it went at and how many of its probes answered at the first
/// try and only at the second (<see cref="RateController"/>). Each probe is judged once, by its
/// reply handler or by the transmit thread when its second try's wait ends unanswered; a
/// cohort speaks once all its probes are judged.
///
/// Concurrency: <see cref="Enter"/> and <see cref="Speak"/> on the transmit thread; <see cref="Judge"/>
/// from any thread (a compare-exchange on the Judged bit beside the probe's cohort makes it once).
/// </summary>
internal sealed class ProbeCohorts
{
    private const int Count = 256, Judged = 0x100;
    private static readonly long Length = Stopwatch.Frequency / 10;
    private static readonly long GiveUpAfter = 10 * Stopwatch.Frequency;
    private readonly int[] cohortOf;
    private readonly long[] first = new long[Count], late = new long[Count], endedAt = new long[Count], pending = new long[Count];
    private readonly int[] rateOf = new int[Count];
    private int current, oldest;
    private long startedAt;

    /// <param name="slots">The window's slots: a probe's cohort is kept by its slot.</param>
    public ProbeCohorts(int slots, int rate)
    {
        cohortOf = new int[slots];
        rateOf[0] = rate;
    }

    /// <summary>A probe first sent now (stopwatch ticks), at <paramref name="rate"/>, from <paramref name="slot"/>: before its reply can come.</summary>
    public void Enter(int slot, long now, int rate)
    {
        // A new cohort every 100 ms, unless the ring is full of ones not yet judged (waits of 25 s and more).
        if (now - startedAt >= Length && current + 1 - oldest < Count)
        {
            endedAt[current & (Count - 1)] = now;
            current++;
            var c = current & (Count - 1);
            (first[c], late[c], endedAt[c], rateOf[c], pending[c]) = (0, 0, 0, rate, 0);
            startedAt = now;
        }
        var cohort = current & (Count - 1);
        cohortOf[slot] = cohort;
        Interlocked.Increment(ref pending[cohort]);
    }

    /// <summary>Counts the slot's probe in its cohort, once: answered at the first try (1), only at the second (2), or neither (0).</summary>
    public void Judge(int slot, int tries)
    {
        var info = Volatile.Read(ref cohortOf[slot]);
        if ((info & Judged) != 0 || Interlocked.CompareExchange(ref cohortOf[slot], info | Judged, info) != info)
            return;
        var c = info & (Count - 1);
        if (tries == 1)
            Interlocked.Increment(ref first[c]);
        else if (tries == 2)
            Interlocked.Increment(ref late[c]);
        Interlocked.Decrement(ref pending[c]);
    }

    /// <summary>Hands every complete cohort, oldest first, to <paramref name="controller"/> (or one closed ten seconds ago,
    /// should some probe never be judged); true if the rate changed.</summary>
    public bool Speak(RateController controller, long now, TimeSpan elapsed)
    {
        var changed = false;
        while (oldest < current && endedAt[oldest & (Count - 1)] is var ended and not 0
            && (Interlocked.Read(ref pending[oldest & (Count - 1)]) <= 0 || now - ended > GiveUpAfter))
        {
            var c = oldest & (Count - 1);
            changed |= controller.Observe(rateOf[c], Interlocked.Read(ref first[c]), Interlocked.Read(ref late[c]), elapsed);
            oldest++;
        }
        return changed;
    }
}
