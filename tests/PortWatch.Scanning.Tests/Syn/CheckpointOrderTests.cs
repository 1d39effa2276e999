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
    public async Task SynScanner_Chunks_CheckpointNeverOvertakesTheirResults()
    {
        using var network = new SimulatedNetwork(lossFraction: 0.02, seed: 4);
        network.AddHost("198.18.0.11", port => port % 7 == 0 ? SimulatedPort.Drop : SimulatedPort.Closed);
        network.AddHost("198.18.0.12", _ => SimulatedPort.Closed);
        var targets = TargetSet.Create(["198.18.0.11-198.18.0.12"]);
        var options = new ScanOptions { RatePps = 100_000, Retries = 2, Timeout = TimeSpan.FromMilliseconds(100), MinimumWait = TimeSpan.FromMilliseconds(20), ChunkSize = 500, Seed = 12 };

        var reports = await CheckAsync(progress => new SynScanner(network).ScanAsync(targets, Ports, options, progress), targets, options.Seed);

        Assert.True(reports >= 2, $"only {reports} progress reports to check");
    }
}
