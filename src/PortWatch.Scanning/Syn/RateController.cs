using System.Globalization;

namespace PortWatch.Scanning.Syn;

/// <summary>
/// The send rate as the answers ask for it; the configured rate is a ceiling.
///
/// The engine groups probes by when they were first sent (100 ms cohorts, each with the rate it
/// was sent at) and, once every probe of a cohort has had its second try's wait, reports how many
/// answered at the first try and how many only at the second (one answer lost). Their ratio is the
/// per-try loss at that rate; ports that never answer count in neither, so a firewall that drops
/// everything does not look like a saturated path. A path that is saturated (a NAT gateway's full
/// conntrack table, a policer, a full queue) loses more as the rate rises: when a cohort sent at
/// the current rate loses clearly more than the path did when clean, the rate drops (by 40%, or
/// by up to 75% when most probes were lost). If the cohorts sent after a back-off lose as much as
/// before it (and less than half), the loss is the path's own, not the rate's: that becomes the
/// clean level and the rate goes back. Three clean samples at the current rate raise it by a tenth of itself (at
/// most a twentieth of the ceiling), up to the ceiling: a step of the ceiling's twentieth from a low rate would
/// overshoot the path's limit again at once (15,000/s to 25,000/s against a 20,000/s policer, a back-off every
/// second). The worst loss of the last seconds is kept for the retransmit decisions (<see cref="RecentLoss"/>).
/// A path that is lossy at any rate (3% random loss) is not slowed:
/// loss-adaptive retransmits deal with that. nmap's congestion control in spirit, over all
/// targets at once instead of per host. The transmit thread's only.
/// </summary>
public sealed class RateController(int ceiling)
{
    /// <summary>Answers a sample needs before it says anything about the loss.</summary>
    public const int SampleAnswers = 300;

    private readonly int floor = Math.Max(1, Math.Min(ceiling, Math.Max(100, ceiling / 100)));
    private long sampleFirst, sampleLate;
    private int sampleRate;
    private double? cleanLoss;
    private int cleanSamples;
    private double? lossAtBackOff;
    private int rateAtBackOff;
    private bool lastSampleSaturated;
    private TimeSpan lastSampleAt;
    private double worstRecentLoss;
    private TimeSpan worstRecentAt;

    /// <summary>How long a sample's loss counts in <see cref="RecentLoss"/>: about as long as a probe's tries last.</summary>
    public static readonly TimeSpan RecentLossWindow = TimeSpan.FromSeconds(3);

    public int Ceiling { get; } = ceiling;

    public int Rate { get; private set; } = ceiling;

    /// <summary>Why the rate is below the ceiling, or null at the ceiling.</summary>
    public string? Reason { get; private set; }

    /// <summary>The per-try loss the path showed when the rate was not too high: its own.</summary>
    public double? CleanLoss => cleanLoss;

    /// <summary>The last sample said the path is saturated (within the last second): a silence now is weak evidence.</summary>
    public bool Saturated(TimeSpan now) => lastSampleSaturated && now - lastSampleAt < TimeSpan.FromSeconds(1);

    /// <summary>
    /// The worst per-try loss a sample showed in the last <see cref="RecentLossWindow"/> (0 before any). A probe whose
    /// tries fell while the path lost this much needs the tries this loss asks for: the whole scan's average, lowered
    /// by the clean stretches between back-offs, would call its port filtered too soon.
    /// </summary>
    public double RecentLoss(TimeSpan now) => now - worstRecentAt <= RecentLossWindow ? worstRecentLoss : 0;

    /// <summary>A cohort of probes first sent at <paramref name="sentAtRate"/>: answered at the first try, and only at the second. True if the rate changed.</summary>
    public bool Observe(int sentAtRate, long answeredAtFirstTry, long answeredAtSecondTry, TimeSpan now)
    {
        sampleFirst += answeredAtFirstTry;
        sampleLate += answeredAtSecondTry;
        sampleRate = Math.Max(sampleRate, sentAtRate);
        var count = sampleFirst + sampleLate;
        if (count < SampleAnswers)
            return false;
        // The per-try loss: of the probes a first try would have answered, the share it did not (one in late/first).
        var loss = Math.Min(1.0, sampleLate / (double)Math.Max(1, sampleFirst));
        var rate = sampleRate;
        (sampleFirst, sampleLate, sampleRate) = (0, 0, 0);
        lastSampleAt = now;
        if (loss >= worstRecentLoss || now - worstRecentAt > RecentLossWindow)
            (worstRecentLoss, worstRecentAt) = (loss, now);
        // A first sample already lossy may be a saturated path, not a lossy one: assume at most 5% is the path's own.
        cleanLoss ??= Math.Min(loss, 0.05);
        var saturated = loss > 2 * cleanLoss.Value + 0.02;
        lastSampleSaturated = saturated;
        // (A path that loses most probes even so is not believed: slower is the safe side there.)
        if (saturated && lossAtBackOff is { } before && rate < rateAtBackOff && loss < 0.5
            && loss >= before - 2 * Math.Sqrt(before * (1 - before) / count) - 0.01)
        {
            // Slower did not help: the path loses this much anyway. Back to the rate before the last step.
            cleanLoss = loss;
            lastSampleSaturated = false;
            lossAtBackOff = null;
            cleanSamples = 0;
            Rate = rateAtBackOff;
            Reason = Rate >= Ceiling ? null : Reason;
            return true;
        }
        if (!saturated)
        {
            cleanLoss = Math.Min(cleanLoss.Value, loss);
            if (rate < Rate)
                return false; // clean at a lower rate than now says nothing about now
            lossAtBackOff = null;
            if (Rate >= Ceiling || ++cleanSamples < 3)
                return false;
            Rate = Math.Min(Ceiling, Rate + Math.Max(1, Math.Min(Ceiling / 20, Rate / 10)));
            cleanSamples = 0;
            Reason = Rate >= Ceiling ? null : string.Create(CultureInfo.InvariantCulture,
                $"creeping back up after a back-off: {loss * 100:0.0}% of probes lost, as when the path was clean");
            return true;
        }
        cleanSamples = 0;
        if (rate > Rate || Rate <= floor)
            return false; // sent faster than now: the back-off that answers it was made already
        var from = Rate;
        Rate = Math.Max(floor, (int)(Rate * Math.Clamp(1 - loss, 0.25, 0.6)));
        (lossAtBackOff, rateAtBackOff) = (loss, from);
        Reason = string.Create(CultureInfo.InvariantCulture,
            $"backed off from {from}/s: {loss * 100:0.0}% of probes lost, answered only when re-sent ({cleanLoss.Value * 100:0.0}% when the path was clean)");
        return true;
    }
}
