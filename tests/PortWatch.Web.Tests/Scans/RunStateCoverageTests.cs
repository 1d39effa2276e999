using System.Net;
using PortWatch.Scanning;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Tests.Scans;

/// <summary>
/// Coverage per target from the stream of results, on a simulated timeline: probes to each
/// target are spread evenly over the scan, as the random probe order spreads them.
/// </summary>
public class RunStateCoverageTests
{
    private const int Ports = 6000;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    /// <param name="answers">Whether the probe to port i gets an answer (open or reset).</param>
    private static Dictionary<string, ScanTargetCoverage> Simulate(Dictionary<string, Func<int, bool>> answers)
    {
        var now = TimeSpan.Zero;
        var targets = TargetSet.Create(answers.Keys);
        var state = new RunState(1, targets, Ports, [], elapsed: () => now);
        var order = Enumerable.Range(0, Ports).OrderBy(_ => Random.Shared.Next()).ToArray();
        for (var i = 0; i < Ports; i++)
        {
            now = Duration * i / Ports;
            foreach (var (address, answered) in answers)
            {
                var port = order[i];
                var status = answered(i) ? (port % 500 == 0 ? PortStatus.Open : PortStatus.Closed) : PortStatus.Filtered;
                state.Record(new PortResult(IPAddress.Parse(address), (ushort)(port + 1), PortProtocol.Tcp, status, status == PortStatus.Filtered ? "no-response" : "reset", 64));
            }
        }
        state.SendingDone();
        now += TimeSpan.FromSeconds(3); // waiting for the last answers
        return state.Coverage(TargetCoverageStatus.Complete).ToDictionary(c => c.Address);
    }

    [Fact]
    public void Coverage_TargetBlocksTheScannerPartWay_IsLostNotComplete()
    {
        var coverage = Simulate(new()
        {
            ["198.51.100.1"] = i => i < Ports / 5, // an anti-scan trap: answers the first fifth, then drops everything
            ["198.51.100.2"] = _ => true, // answers throughout
        });

        var trapped = coverage["198.51.100.1"];
        Assert.Equal(TargetCoverageStatus.Lost, trapped.Status);
        Assert.Contains("then nothing from 12 s on", trapped.Note, StringComparison.Ordinal);
        Assert.Equal(TargetCoverageStatus.Complete, coverage["198.51.100.2"].Status);
    }

    [Fact]
    public void Coverage_FirewalledHostWithFewOpenPorts_IsComplete()
    {
        // DROP everywhere but two ports, which happen to be probed early: rare answers prove nothing.
        var coverage = Simulate(new() { ["198.51.100.3"] = i => i is 40 or 700 });

        Assert.Equal(TargetCoverageStatus.Complete, coverage["198.51.100.3"].Status);
    }

    [Fact]
    public void Coverage_HostThatNeverAnswers_IsLost()
    {
        var coverage = Simulate(new() { ["198.51.100.4"] = _ => false });

        Assert.Equal(TargetCoverageStatus.Lost, coverage["198.51.100.4"].Status);
        Assert.Contains("no probe was answered", coverage["198.51.100.4"].Note, StringComparison.Ordinal);
    }
}

/// <summary>Coverage from a real SYN scan (the engine over a simulated network, real clock): a host that blocks the scanner part-way.</summary>
public class RunStateSynCoverageTests
{
    [Fact]
    public async Task Coverage_SynScanOfAHostThatStartsDroppingEverything_IsLostAndTheSteadyHostComplete()
    {
        using var network = new PortWatch.Scanning.Tests.Syn.SimulatedNetwork();
        var probesToTrap = 0;
        // An anti-scan trap: answers (resets) the first 4,000 probes, then drops everything from the scanner.
        network.AddHost("198.18.0.21", _ => Interlocked.Increment(ref probesToTrap) > 4_000 ? PortWatch.Scanning.Tests.Syn.SimulatedPort.Drop : PortWatch.Scanning.Tests.Syn.SimulatedPort.Closed);
        network.AddHost("198.18.0.22", port => port % 1000 == 0 ? PortWatch.Scanning.Tests.Syn.SimulatedPort.Open : PortWatch.Scanning.Tests.Syn.SimulatedPort.Closed);
        var targets = TargetSet.Create(["198.18.0.21-198.18.0.22"]);
        var ports = Enumerable.Range(1, 30_000).Select(p => (ushort)p).ToArray();
        var state = new RunState(1, targets, ports.Length, []);
        var options = new ScanOptions { RatePps = 10_000, Retries = 1, Timeout = TimeSpan.FromMilliseconds(200), Seed = 3, ReportClosed = true, ReportFiltered = true };
        var progress = new SynchronousProgress<ScanProgress>(p =>
        {
            if (p.Probed >= p.TotalProbes)
                state.SendingDone();
        });

        await foreach (var result in new PortWatch.Scanning.Syn.SynScanner(network).ScanAsync(targets, ports, options, progress))
            state.Record(result);
        state.SendingDone();
        var coverage = state.Coverage(TargetCoverageStatus.Complete).ToDictionary(c => c.Address);

        Assert.Equal(TargetCoverageStatus.Lost, coverage["198.18.0.21"].Status);
        Assert.Contains("answered 4000 probes, then nothing", coverage["198.18.0.21"].Note, StringComparison.Ordinal);
        Assert.Equal(TargetCoverageStatus.Complete, coverage["198.18.0.22"].Status);
    }
}
