using System.Diagnostics;
using System.Net;
using PortWatch.Scanning.Syn;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Tests.Syn;

/// <summary>The SYN engine's logic on a simulated network: runs anywhere, no root.</summary>
public class SynScannerTests
{
    private static readonly ScanOptions Quick = new()
    {
        RatePps = 200_000, Retries = 3, Timeout = TimeSpan.FromMilliseconds(200), MinimumWait = TimeSpan.FromMilliseconds(30), Seed = 5, ReportClosed = true, ReportFiltered = true,
    };

    /// <summary>
    /// For tests that count probes or tries exactly: a wait long enough that a stall of the simulated
    /// network's receive thread on a loaded test machine (tens of milliseconds) cannot pass for silence.
    /// </summary>
    private static readonly ScanOptions Patient = Quick with { Timeout = TimeSpan.FromMilliseconds(600), MinimumWait = TimeSpan.FromMilliseconds(600) };

    private static SimulatedPort Truth(ushort port) => port switch
    {
        22 or 80 or 443 or 6379 => SimulatedPort.Open,
        445 or 3389 => SimulatedPort.Drop,
        111 or 3306 => SimulatedPort.IcmpReject,
        _ => SimulatedPort.Closed,
    };

    private static async Task<List<PortResult>> ScanAsync(SimulatedNetwork network, string targets, IReadOnlyList<ushort> ports, ScanOptions options)
    {
        var results = new List<PortResult>();
        await foreach (var r in new SynScanner(network).ScanAsync(TargetSet.Create([targets]), ports, options))
            results.Add(r);
        return results;
    }

    private static readonly ushort[] FirstPorts = Enumerable.Range(1, 4000).Select(p => (ushort)p).ToArray();

    [Fact]
    public async Task ScanAsync_EveryKindOfPort_GetsNmapVerdictAndReason()
    {
        using var network = new SimulatedNetwork();
        network.AddHost("198.18.0.11", Truth);
        network.AddHost("198.18.0.12", Truth);

        // Patient: the reason counts tries exactly, and a stalled receive thread under CI load passed for loss (8 tries, not 4).
        var results = await ScanAsync(network, "198.18.0.11-198.18.0.12", FirstPorts, Patient);

        Assert.Equal(2 * FirstPorts.Length, results.Count);
        Assert.All(results, r => Assert.Equal(Truth(r.Port) switch
        {
            SimulatedPort.Open => PortStatus.Open,
            SimulatedPort.Closed => PortStatus.Closed,
            _ => PortStatus.Filtered,
        }, r.Status));
        var reasons = results.Where(r => r.Address.Equals(IPAddress.Parse("198.18.0.11"))).ToDictionary(r => r.Port, r => r.Reason);
        Assert.Equal("syn-ack", reasons[22]);
        Assert.Equal("reset", reasons[23]);
        Assert.Equal("no-response after 4 tries", reasons[445]); // 3 retries: the clean path needs no more
        Assert.Equal("port-unreach", reasons[3306]);
    }

    [Fact]
    public async Task ScanAsync_OnlyUnansweredProbes_AreRetransmitted()
    {
        using var network = new SimulatedNetwork();
        network.AddHost("198.18.0.11", Truth);

        await ScanAsync(network, "198.18.0.11", FirstPorts, Patient);

        // 4000 first probes, then the two dropped ports three more times each.
        Assert.Equal(FirstPorts.Length + 2 * Quick.Retries, network.ProbesSeen);
    }

    [Fact]
    public async Task ScanAsync_TenPercentLossEachWay_StillFindsEveryOpenPort()
    {
        using var network = new SimulatedNetwork(lossFraction: 0.10, seed: 3);
        network.AddHost("198.18.0.11", Truth);

        var results = await ScanAsync(network, "198.18.0.11", FirstPorts, Quick with { Retries = 8 });

        Assert.Equal([22, 80, 443], results.Where(r => r.Status == PortStatus.Open).Select(r => (int)r.Port).Order());
        Assert.DoesNotContain(results, r => r.Status == PortStatus.Filtered && Truth(r.Port) == SimulatedPort.Closed);
    }

    [Fact]
    public async Task ScanAsync_ForgedRepliesWithoutOurCookie_AreIgnored()
    {
        using var network = new SimulatedNetwork { ForgeReplies = true };
        network.AddHost("198.18.0.11", _ => SimulatedPort.Drop); // a host that answers nothing, plus a forger answering everything

        var results = await ScanAsync(network, "198.18.0.11", FirstPorts[..500], Quick with { Retries = 1 });

        Assert.DoesNotContain(results, r => r.Status == PortStatus.Open);
        Assert.Equal(500, results.Count(r => r.IsSilence));
    }

    [Fact]
    public async Task ScanAsync_ResumedFromCheckpoint_ProbesOnlyTheRest()
    {
        using var network = new SimulatedNetwork();
        network.AddHost("198.18.0.11", Truth);
        var options = Patient with { Window = 1024, StartPosition = 3000 };

        var results = await ScanAsync(network, "198.18.0.11", FirstPorts, options);

        Assert.Equal(1000, results.Count);
        // Each of the last 1000 positions probed once, plus the retransmits of the silent ones among them.
        Assert.Equal(1000 + Quick.Retries * results.Count(r => r.IsSilence), network.ProbesSeen);
    }

    /// <summary>
    /// 3% loss each way, three hosts: with the retries fixed at one, some closed ports lose their
    /// reset on every try and are called filtered; measuring the loss and re-probing the silent
    /// ones until a lost answer is improbable gets every port right, at the cost of a few rounds.
    /// </summary>
    [Fact]
    public async Task ScanAsync_ThreePercentLoss_RetriesUntilNoSilenceIsLikelyALostAnswer()
    {
        static SimulatedPort Lossy(ushort port) => port % 97 == 0 ? SimulatedPort.Drop : port % 89 == 0 ? SimulatedPort.Open : SimulatedPort.Closed;
        var ports = FirstPorts;
        var fixedRetries = Quick with { Retries = 1, MaxRetries = 1, Seed = 21 };
        var adaptive = fixedRetries with { MaxRetries = 10 };

        using var fixedNetwork = new SimulatedNetwork(lossFraction: 0.03, seed: 8);
        using var adaptiveNetwork = new SimulatedNetwork(lossFraction: 0.03, seed: 8);
        foreach (var network in new[] { fixedNetwork, adaptiveNetwork })
        {
            foreach (var host in new[] { "198.18.0.31", "198.18.0.32", "198.18.0.33" })
                network.AddHost(host, Lossy);
        }
        var withFixed = await ScanAsync(fixedNetwork, "198.18.0.31-198.18.0.33", ports, fixedRetries);
        var withAdaptive = await ScanAsync(adaptiveNetwork, "198.18.0.31-198.18.0.33", ports, adaptive);

        static int Wrong(List<PortResult> results) => results.Count(r => r.Status != (Lossy(r.Port) switch
        {
            SimulatedPort.Open => PortStatus.Open,
            SimulatedPort.Drop => PortStatus.Filtered,
            _ => PortStatus.Closed,
        }));
        Assert.True(Wrong(withFixed) > 0, "the loss should cost the fixed retries some ports (else the test shows nothing)");
        Assert.Equal(0, Wrong(withAdaptive));
        Assert.Equal(3 * ports.Length, withAdaptive.Count);
        // The silences say how hard the engine tried: more than the two tries of one retry.
        var silence = withAdaptive.First(r => r.IsSilence).Reason;
        Assert.Matches(@"^no-response after ([3-9]|1[01]) tries$", silence);
    }

    /// <summary>
    /// A scan many times larger than its window never stops sending to wait: probes are re-sent or
    /// decided as their own waits run out while new ones keep going. The chunked engine stopped for
    /// every chunk's wait (here 300 ms at least, sixteen times).
    /// </summary>
    [Fact]
    public async Task ScanAsync_ScanLargerThanTheWindow_NeverPausesSendingForAWait()
    {
        using var network = new SimulatedNetwork();
        // Every port answers: a silent one holds its slot for all its tries, and a window that small would fill behind it.
        network.AddHost("198.18.0.41", port => port % 100 == 0 ? SimulatedPort.Open : SimulatedPort.Closed);
        var options = Quick with { RatePps = 20_000, Window = 256, Timeout = TimeSpan.FromMilliseconds(300), MinimumWait = TimeSpan.FromMilliseconds(300) };

        var results = await ScanAsync(network, "198.18.0.41", FirstPorts, options);

        Assert.Equal(FirstPorts.Length, results.Count);
        long[] times;
        lock (network.SendTimes)
            times = [.. network.SendTimes.Take(FirstPorts.Length - 10)]; // the first sends (a clean path answers each probe)
        var longestGap = times.Zip(times.Skip(1), (a, b) => TimeSpan.FromSeconds((b - a) / (double)System.Diagnostics.Stopwatch.Frequency)).Max();
        Assert.True(longestGap < TimeSpan.FromMilliseconds(150), $"sending paused for {longestGap.TotalMilliseconds:F0} ms");
    }

    /// <summary>Closed and filtered ports are the bulk of a full-port scan: by default they are counted in the progress, not emitted one by one.</summary>
    [Fact]
    public async Task ScanAsync_Default_CountsClosedAndFilteredPortsInsteadOfEmittingThem()
    {
        using var network = new SimulatedNetwork();
        network.AddHost("198.18.0.42", Truth);
        ScanProgress? last = null;
        var results = new List<PortResult>();

        await foreach (var r in new SynScanner(network).ScanAsync(TargetSet.Create(["198.18.0.42"]), FirstPorts, Quick with { ReportClosed = false, ReportFiltered = false },
            new SynchronousProgress<ScanProgress>(p => last = p)))
            results.Add(r);

        Assert.DoesNotContain(results, r => r.Status == PortStatus.Closed);
        Assert.Equal([22, 80, 443], results.Select(r => (int)r.Port).Order()); // the open ones; 111, 3306 rejected and 445, 3389 dropped are counted
        Assert.NotNull(last);
        Assert.Equal((ulong)(FirstPorts.Length - 7), last.Closed);
        Assert.Equal((ulong)(FirstPorts.Length - 7), last.ClosedBeforeCheckpoint);
        Assert.Equal(4UL, last.FilteredBeforeCheckpoint);
        Assert.Equal((ulong)FirstPorts.Length, last.CheckpointPosition);
        Assert.Equal((ulong)FirstPorts.Length, last.Probed);
    }

    /// <summary>
    /// A policer on the path drops probes beyond 20k a second while the scan may send 200k: without listening to the
    /// path the probes die there, re-sends and all, and ports are called filtered that are not. With the rate that
    /// listens, the engine backs off, says why, and every port is right.
    /// </summary>
    [Fact]
    public async Task ScanAsync_PathPolicedBelowTheRate_BacksOffSaysWhyAndGetsEveryPortRight()
    {
        var ports = PortSet.AllTcp.Tcp; // long enough (a second at the full rate) for the engine to hear the path
        static SimulatedPort Policed(ushort port) => port % 500 == 0 ? SimulatedPort.Open : SimulatedPort.Closed;
        // Waits in proportion to a real path's (150 ms and more): the first back-off must come before the first probes run out of tries.
        // Up to 15 re-sends: on a busy test machine the simulated path itself stalls now and then, and a probe needs its
        // tries to outlast the back-offs (the silences during a saturated sample are re-sent, not decided, but samples lag).
        var options = Quick with { MinimumWait = TimeSpan.FromMilliseconds(100), Retries = 3, MaxRetries = 15 };

        using var fixedNetwork = new SimulatedNetwork { PolicerPps = 20_000 };
        fixedNetwork.AddHost("198.18.0.51", Policed);
        fixedNetwork.AddHost("198.18.0.52", Policed);
        var withFixedRate = await ScanAsync(fixedNetwork, "198.18.0.51-198.18.0.52", ports, options with { AdaptRate = false });

        using var network = new SimulatedNetwork { PolicerPps = 20_000 };
        network.AddHost("198.18.0.51", Policed);
        network.AddHost("198.18.0.52", Policed);
        var reports = new List<ScanProgress>();
        var results = new List<PortResult>();
        await foreach (var r in new SynScanner(network).ScanAsync(TargetSet.Create(["198.18.0.51-198.18.0.52"]), ports, options,
            new SynchronousProgress<ScanProgress>(reports.Add)))
            results.Add(r);

        static int Wrong(List<PortResult> found) => found.Count(r => r.Status != (Policed(r.Port) == SimulatedPort.Open ? PortStatus.Open : PortStatus.Closed));
        Assert.True(Wrong(withFixedRate) > 0, "the policer should cost a fixed rate some ports (else the test shows nothing)");
        Assert.Equal(2 * ports.Count, results.Count);
        Assert.True(Wrong(results) == 0, $"{Wrong(results)} wrong; rates {string.Join(", ", reports.Select(p => $"{p.Elapsed.TotalSeconds:F1}s:{p.Rate}:{p.Sent}").Distinct())}; {string.Join(" | ", reports.Select(p => p.RateReason).Distinct())}");
        var backedOff = reports.FirstOrDefault(p => p.Rate < options.RatePps);
        Assert.NotNull(backedOff);
        Assert.Contains("backed off from 200000/s", reports.Select(p => p.RateReason).OfType<string>().First(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The scanning process stalls (descheduled on a busy machine): replies that arrived meanwhile wait unread in the
    /// receive queue while the probes' waits run out by the clock. With no retries, each of those ports would be called
    /// filtered at once; they are read instead, and every port gets its answer.
    /// </summary>
    [Fact]
    public async Task ScanAsync_ProcessStalledWithRepliesUnread_ReadsThemInsteadOfCallingThePortsFiltered()
    {
        using var network = new SimulatedNetwork
        {
            ReplyDelay = (5, 20),
            Stall = (AtProbe: 1500, For: TimeSpan.FromMilliseconds(300), CatchUp: TimeSpan.FromMilliseconds(100)),
        };
        network.AddHost("198.18.0.71", p => p % 100 == 0 ? SimulatedPort.Open : SimulatedPort.Closed);

        var results = await ScanAsync(network, "198.18.0.71", FirstPorts[..3000],
            Quick with { RatePps = 20_000, Retries = 0, MaxRetries = 0, AdaptRate = false, Timeout = TimeSpan.FromMilliseconds(200) }); // one try: no re-send can make up for it

        Assert.Equal(3000, results.Count);
        var filtered = results.Count(r => r.Status == PortStatus.Filtered);
        Assert.True(filtered == 0, $"{filtered} called filtered; the stalled probe left {Stopwatch.GetElapsedTime(network.SendTimes[0], network.SendTimes[1499]).TotalMilliseconds:F0} ms after the first");
        Assert.Equal(30, results.Count(r => r.Status == PortStatus.Open));
    }

    /// <summary>
    /// On a lossy path re-sends go out between new probes: the progress counts probes, not packets, so it never runs
    /// past the total or backwards, the ETA shrinks to nothing, and the rate shown is the one held to.
    /// </summary>
    [Fact]
    public async Task ScanAsync_LossyPath_ProgressCountsProbesNeverGoesBackAndEndsAtTheTotal()
    {
        using var network = new SimulatedNetwork(lossFraction: 0.05, seed: 3);
        network.AddHost("198.18.0.61", Truth);
        var reports = new List<ScanProgress>();
        var options = Quick with { RatePps = 50_000 };

        await foreach (var _ in new SynScanner(network).ScanAsync(TargetSet.Create(["198.18.0.61"]), PortSet.AllTcp.Tcp, options,
            new SynchronousProgress<ScanProgress>(reports.Add)))
        {
        }

        Assert.True(reports.Count >= 4, $"{reports.Count} reports: {string.Join(", ", reports.Select(p => $"{p.Elapsed.TotalSeconds:F2}:{p.Probed}:{p.CheckpointPosition}"))}");
        Assert.All(reports, p => Assert.InRange(p.Probed, 0UL, 65535UL));
        Assert.Equal(reports.Select(p => p.Probed).Order(), reports.Select(p => p.Probed));
        Assert.Equal(reports.Select(p => p.CheckpointPosition).Order(), reports.Select(p => p.CheckpointPosition));
        var last = reports[^1];
        Assert.Equal((65535UL, 65535UL), (last.Probed, last.CheckpointPosition));
        Assert.True(last.Sent > last.Probed && last.Retransmits == last.Sent - last.Probed, $"{last.Sent} sent, {last.Retransmits} re-sent");
        Assert.Equal(TimeSpan.Zero, last.EstimatedRemaining);
        var early = reports.First(p => p.Probed is > 5_000 and < 40_000);
        Assert.InRange(early.EstimatedRemaining!.Value.TotalSeconds, (65535 - (double)early.Probed) / options.RatePps, 10);
        Assert.All(reports.Skip(1).SkipLast(1), p => Assert.InRange(p.PacketsPerSecond, 0, options.RatePps * 1.2));
    }
}
