using PortWatch.Scanning.Syn;

namespace PortWatch.Scanning.Tests.Syn;

/// <summary>
/// The pacing rule itself, on a virtual clock (no test here waits for real time): the rate is
/// kept, and no window holds more than the rate plus the burst, after a stall included.
/// </summary>
public class TokenBucketTests
{
    private static readonly long Second = TokenBucket.Frequency;

    /// <summary>Sends as fast as the bucket allows from <paramref name="from"/> until <paramref name="until"/>; returns the send times.</summary>
    private static List<long> SendFlatOut(TokenBucket bucket, long from, long until)
    {
        var times = new List<long>();
        var now = from;
        while (true)
        {
            var at = bucket.Reserve(now);
            if (at >= until)
                return times;
            times.Add(at);
            now = at;
        }
    }

    /// <summary>The most packets sent in any window of <paramref name="window"/> ticks.</summary>
    private static int MostInAnyWindow(List<long> times, long window)
    {
        var most = 0;
        for (int first = 0, last = 0; last < times.Count; last++)
        {
            while (times[last] - times[first] >= window)
                first++;
            most = Math.Max(most, last - first + 1);
        }
        return most;
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    [InlineData(100_000)]
    [InlineData(1_000_000)]
    public void Reserve_FlatOutForOneSecond_KeepsTheRateAndEveryMillisecond(int rate)
    {
        var bucket = new TokenBucket(rate);

        var times = SendFlatOut(bucket, 0, Second);

        Assert.InRange(times.Count, rate, rate + bucket.Burst);
        var perMillisecond = rate / 1000.0;
        Assert.True(MostInAnyWindow(times, Second / 1000) <= Math.Ceiling(perMillisecond) + bucket.Burst,
            $"{MostInAnyWindow(times, Second / 1000)} packets in one millisecond at {rate} pps (burst {bucket.Burst})");
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(100_000)]
    [InlineData(1_000_000)]
    public void Reserve_AfterAStall_SendsNoMoreThanTheBurstAboveTheRate(int rate)
    {
        var bucket = new TokenBucket(rate);
        var before = SendFlatOut(bucket, 0, Second / 10);

        // The sender was away for 200 ms (a GC pause, a slow disk, a descheduled thread); then 2 ms flat out.
        var stallEnd = before[^1] + Second / 5;
        var after = SendFlatOut(bucket, stallEnd, stallEnd + Second / 500);

        var allowed = rate / 500 + bucket.Burst; // 2 ms of the rate, plus the burst
        Assert.True(after.Count <= allowed, $"{after.Count} packets in the 2 ms after a 200 ms stall at {rate} pps; at most {allowed} allowed");
        Assert.True(after.Count >= rate / 500, $"only {after.Count} packets in 2 ms after the stall at {rate} pps");
    }

    [Fact]
    public void Burst_Default_IsOneMillisecondOfTheRateAndAtLeastTen()
    {
        Assert.Equal(100, new TokenBucket(100_000).Burst);
        Assert.Equal(10, new TokenBucket(500).Burst);
        Assert.Equal(5, new TokenBucket(100_000, burst: 5).Burst);
    }
}
