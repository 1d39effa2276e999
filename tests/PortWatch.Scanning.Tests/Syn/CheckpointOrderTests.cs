using System.Net;
using PortWatch.Scanning.Permutation;
using PortWatch.Scanning.Syn;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Tests.Syn;

/// <summary>
/// A checkpoint may be persisted and resumed from only if every probe before it has already
/// delivered its verdict to the consumer; otherwise a crash in between loses results for good.
/// </summary>
public class CheckpointOrderTests
{
    private static readonly ushort[] Ports = Enumerable.Range(1, 3000).Select(p => (ushort)p).ToArray();

    /// <summary>Consumes a scan and checks the invariant at every progress report; returns how many reports were checked.</summary>
    private static async Task<int> CheckAsync(Func<IProgress<ScanProgress>, IAsyncEnumerable<PortResult>> scan, TargetSet targets, ulong seed)
    {
        var permutation = new IndexPermutation(targets.Count * (ulong)Ports.Length, seed);
        var seen = new HashSet<ulong>();
        var reports = 0;
        var progress = new SynchronousProgress<ScanProgress>(p =>
        {
            for (ulong position = 0; position < p.CheckpointPosition; position++)
                Assert.True(seen.Contains(position), $"checkpoint {p.CheckpointPosition} overtook position {position}, whose result had not arrived");
            reports++;
        });
        await foreach (var result in scan(progress))
        {
            targets.TryIndexOf(result.Address, out var target);
            seen.Add(permutation.Unpermute(target * (ulong)Ports.Length + (ulong)Array.IndexOf(Ports, result.Port)));
        }
        return reports;
    }

    [Fact]
    public async Task ProbeSchedule_SlowEarlyProbes_CheckpointNeverOvertakesTheirResults()
    {
        var targets = TargetSet.Create(["198.18.0.1"]);
        var options = new ScanOptions { RatePps = 100_000, Concurrency = 64, Seed = 9 };
        var permutation = new IndexPermutation((ulong)Ports.Length, options.Seed);

        var reports = await CheckAsync(progress => ProbeSchedule.RunAsync(targets, Ports, options, async (endpoint, ct) =>
        {
            // Every 50th position in the order answers late, while many later ones finish first.
            var position = permutation.Unpermute((ulong)Array.IndexOf(Ports, (ushort)endpoint.Port));
            await Task.Delay(position % 50 == 0 ? 40 : 0, ct);
            return new PortResult(endpoint.Address, (ushort)endpoint.Port, PortProtocol.Tcp, PortStatus.Closed, "conn-refused", null);
        }, progress, CancellationToken.None), targets, options.Seed);

        Assert.True(reports >= 5, $"only {reports} progress reports to check");
    }

    [Fact]
    public async Task SynScanner_LossyPathWithRetransmits_CheckpointNeverOvertakesTheirResults()
    {
        using var network = new SimulatedNetwork(lossFraction: 0.02, seed: 4);
        network.AddHost("198.18.0.11", port => port % 7 == 0 ? SimulatedPort.Drop : SimulatedPort.Closed);
        network.AddHost("198.18.0.12", _ => SimulatedPort.Closed);
        var targets = TargetSet.Create(["198.18.0.11-198.18.0.12"]);
        var options = new ScanOptions { RatePps = 100_000, Retries = 2, Timeout = TimeSpan.FromMilliseconds(100), MinimumWait = TimeSpan.FromMilliseconds(20), Window = 512, Seed = 12, ReportClosed = true, ReportFiltered = true };

        var reports = await CheckAsync(progress => new SynScanner(network).ScanAsync(targets, Ports, options, progress), targets, options.Seed);

        Assert.True(reports >= 2, $"only {reports} progress reports to check");
    }

    /// <summary>
    /// Replies that arrive late, twice and out of order, around the moment a chunk is retired: every
    /// probe still gets exactly one verdict, and no checkpoint passes a probe whose verdict has not
    /// arrived. Before the fix a reply that read the chunk before it was retired could add "open"
    /// after "filtered (no-response)" had been reported and the checkpoint had moved on.
    /// </summary>
    [Fact]
    public async Task SynScanner_LateDuplicatedReorderedReplies_ExactlyOneVerdictPerProbe()
    {
        var ports = Enumerable.Range(1, 1000).Select(p => (ushort)p).ToArray();
        var twice = new List<string>();
        for (var seed = 1; seed <= 8; seed++)
        {
            using var network = new SimulatedNetwork(lossFraction: 0, seed: seed) { ReplyDelay = (1.8, 2.2), DuplicateFraction = 0.3 };
            network.AddHost("198.18.0.21", port => (port % 3) switch { 0 => SimulatedPort.Open, 1 => SimulatedPort.Closed, _ => SimulatedPort.IcmpReject });
            var targets = TargetSet.Create(["198.18.0.21"]);
            var options = new ScanOptions
            {
                RatePps = 1_000_000, Retries = 0, MaxRetries = 0, Window = 64, Seed = (ulong)seed, ReportClosed = true, ReportFiltered = true,
                // Every probe waits exactly 2 ms, so the replies, 1.8 to 2.2 ms after their probes, arrive as it is called filtered.
                Timeout = TimeSpan.FromMilliseconds(2), MinimumWait = TimeSpan.FromMilliseconds(2),
            };
            var permutation = new IndexPermutation((ulong)ports.Length, options.Seed);
            var verdicts = new Dictionary<ulong, int>();
            var progress = new SynchronousProgress<ScanProgress>(p =>
            {
                for (ulong position = 0; position < p.CheckpointPosition; position++)
                    Assert.True(verdicts.ContainsKey(position), $"seed {seed}: checkpoint {p.CheckpointPosition} passed position {position} before its verdict");
            });
            await foreach (var result in new SynScanner(network).ScanAsync(targets, ports, options, progress))
            {
                var position = permutation.Unpermute((ulong)Array.IndexOf(ports, result.Port));
                verdicts[position] = verdicts.GetValueOrDefault(position) + 1;
            }
            Assert.Equal(ports.Length, verdicts.Count);
            twice.AddRange(verdicts.Where(v => v.Value != 1).Select(v => $"seed {seed}: position {v.Key} got {v.Value} verdicts"));
        }
        Assert.Empty(twice);
    }
}
