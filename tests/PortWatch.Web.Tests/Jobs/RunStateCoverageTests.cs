using System.Net;
using PortWatch.Scanning;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Jobs;

namespace PortWatch.Web.Tests.Jobs;

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
