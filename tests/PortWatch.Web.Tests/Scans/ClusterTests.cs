using Microsoft.EntityFrameworkCore;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Tests.Data;

namespace PortWatch.Web.Tests.Scans;

/// <summary>
/// PortWatch as real processes: two nodes on one PostgreSQL database (Quartz clustered) sharing a
/// run's shards, one killed mid-run; and a single SQLite node killed mid-scan and started again.
/// Targets are loopback addresses only, where every port answers (open, or a reset), so every
/// counter has one right value.
/// </summary>
public sealed class ClusterTests : IDisposable
{
    private readonly ClusterNodes nodes = new();

    [PostgresFact]
    public async Task Run_NodeKilledMidShard_OtherNodeTakesOverQuicklyAndCountsExactly()
    {
        var (connectionString, drop) = PostgresTests.NewDatabase();
        var contexts = PostgresTests.Contexts(connectionString);
        using var listener = new LoopbackListener();
        var port = listener.Port;
        const int PortsPerTarget = 8001;
        try
        {
            long runId;
            await using (var db = contexts())
            {
                await db.Database.MigrateAsync();
                // Six one-address shards of ~8 s each: both nodes get some, and one dies in the middle of its own.
                var profile = new ScanProfile { Name = "cluster", TcpPorts = $"1-8000,{port}", Engine = ScanEngineKind.Connect, RatePps = 1000, Retries = 0, TimeoutMs = 300, ServiceDetection = false };
                db.ScanProfiles.Add(profile);
                await db.SaveChangesAsync();
                var run = new ScanRun { Status = ScanRunStatus.Queued, ScanProfileId = profile.Id, TargetSpec = "127.0.0.1-127.0.0.6", CreatedAt = DateTime.UtcNow };
                db.ScanRuns.Add(run);
                await db.SaveChangesAsync();
                runId = run.Id; // queued before the nodes start: they pick it up at start-up
            }
            // Three shard slots a node, so all six shards start at once and the survivor has a free worker when the dead
            // node's lease runs out: the time measured is the takeover's, not that of the survivor's queue on a loaded machine.
            var slots = new Dictionary<string, string> { ["Scanning__MaxConcurrentScans"] = "3" };
            var nodeA = nodes.Start("a", connectionString, settings: slots);
            var nodeB = nodes.Start("b", connectionString, settings: slots);

            // Kill a node running a shard well inside its work (over half of its ~8000 probes, about 4 s, still to go),
            // so it cannot finish before the kill lands; checkpoints are saved every 2 s, so a shard shows one below 4000 for a while.
            var running = await Eventually.WaitAsync(async () =>
            {
                await using var db = contexts();
                return await db.ScanShards.AsNoTracking()
                    .Where(s => s.ScanRunId == runId && s.Status == ScanRunStatus.Running && s.CheckpointPosition > 0 && s.CheckpointPosition < 4000).ToListAsync();
            }, shards => shards.Count > 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
            Assert.NotEmpty(running);
            var victim = running[0];
            var killed = ClusterNodes.Owns(nodeA, victim.Node) ? nodeA : nodeB;
            await ClusterNodes.KillAsync(killed);
            var killedAt = DateTime.UtcNow;

            // The survivor resumes the dead node's shard once its heartbeat lease (20 s) has run out, ahead of fresh shards.
            var takenOver = await Eventually.WaitAsync(async () =>
            {
                await using var db = contexts();
                return await db.ScanShards.AsNoTracking().SingleAsync(s => s.Id == victim.Id);
            }, s => s.Status == ScanRunStatus.Completed || (s.Node != victim.Node && s.Status == ScanRunStatus.Running), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            var takeover = DateTime.UtcNow - killedAt;
            Assert.NotEqual(victim.Node, takenOver.Node);
            Assert.True(takeover < TimeSpan.FromSeconds(35), $"taken over {takeover.TotalSeconds:0.0} s after the kill");

            var done = await Eventually.WaitAsync(async () =>
            {
                await using var db = contexts();
                return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
            }, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(200));
            var survivor = killed == nodeA ? nodeB : nodeA;
            Assert.True(done.Status == ScanRunStatus.Completed, $"run is {done.Status} ({done.Error}); survivor log: {nodes.Tail(survivor)}");

            await using var check = contexts();
            var shards = await check.ScanShards.AsNoTracking().Where(s => s.ScanRunId == runId).ToListAsync();
            Assert.Equal(6, shards.Count);
            Assert.All(shards, s => Assert.Equal(ScanRunStatus.Completed, s.Status));
            Assert.True(shards.Single(s => s.Id == victim.Id).ResumeCount >= 1, "the dead node's shard continued from its checkpoint");
            var observations = await check.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId).ToListAsync();
            Assert.Single(observations, o => o.Address == "127.0.0.1" && o.Port == port);
            Assert.Equal(observations.Count, observations.Select(o => (o.Address, o.Port)).Distinct().Count());
            var coverage = await check.ScanTargetCoverage.AsNoTracking().Where(c => c.ScanRunId == runId).ToListAsync();
            Assert.Equal(6, coverage.Count);
            // Each probe counted exactly once, before or after the takeover: a shard's verdicts add up to its ports
            // (a loopback port resets, accepts, or on a loaded machine times out), and its coverage row agrees with it.
            var wrong = shards.Select(shard =>
            {
                var address = $"127.0.0.{shard.Index + 1}";
                var open = observations.Count(o => o.Address == address);
                var answered = coverage.Single(c => c.Address == address).PortsAnswered;
                return shard.ClosedCount + shard.FilteredCount + open == PortsPerTarget && answered == shard.RepliesReceived && answered <= PortsPerTarget
                    ? null
                    : $"{address} (resumed {shard.ResumeCount}): {shard.ClosedCount} closed + {shard.FilteredCount} filtered + {open} open, {shard.RepliesReceived} replies, coverage {answered} answered";
            }).Where(w => w is not null).ToList();
            Assert.True(wrong.Count == 0, $"{PortsPerTarget} ports per target: {string.Join("; ", wrong)}");
            Assert.All(coverage, c => Assert.Equal(TargetCoverageStatus.Complete, c.Status));
            Assert.Equal(6 * PortsPerTarget, done.ClosedCount + done.FilteredCount + done.OpenCount);
        }
        finally
        {
            nodes.Dispose();
            await drop();
        }
    }

    [Fact]
    public async Task Run_ProcessKilledMidScanAndStartedAgain_ResumesWithTheCheckpointAndCountersOfTheCrash()
    {
        using var listener = new LoopbackListener();
        var port = listener.Port;
        const int Ports = 20001;
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"portwatch-kill-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, "portwatch.db");
        Func<PortWatchDbContext> contexts = () => new SqlitePortWatchDbContext(new DbContextOptionsBuilder<PortWatchDbContext>().UseSqlite($"Data Source={file}").Options);
        long runId;
        await using (var db = contexts())
        {
            await db.Database.MigrateAsync();
            var profile = new ScanProfile { Name = "kill", TcpPorts = $"1-20000,{port}", Engine = ScanEngineKind.Connect, RatePps = 2500, Retries = 0, TimeoutMs = 300, ServiceDetection = false };
            db.ScanProfiles.Add(profile);
            await db.SaveChangesAsync();
            var run = new ScanRun { Status = ScanRunStatus.Queued, ScanProfileId = profile.Id, TargetSpec = "127.0.0.1", CreatedAt = DateTime.UtcNow };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
        }

        var first = nodes.Start("first", null, dataDirectory);
        await Eventually.WaitAsync(async () =>
        {
            await using var db = contexts();
            return await db.ScanShards.AnyAsync(s => s.ScanRunId == runId && s.CheckpointPosition > 3000);
        }, found => found, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        await ClusterNodes.KillAsync(first);
        ScanShard atCrash;
        await using (var db = contexts())
            atCrash = await db.ScanShards.AsNoTracking().SingleAsync(s => s.ScanRunId == runId);
        Assert.InRange(atCrash.CheckpointPosition ?? 0, 3000, 19000);
        Assert.True(atCrash.ClosedCount > 0, "the counters were saved with the checkpoint");

        var second = nodes.Start("second", null, dataDirectory);
        // Watch the stored checkpoint all the way: a second crash at any moment must resume from at least where the first left off.
        var lowest = long.MaxValue;
        var done = await Eventually.WaitAsync(async () =>
        {
            await using var db = contexts();
            var shard = await db.ScanShards.AsNoTracking().SingleAsync(s => s.ScanRunId == runId);
            lowest = Math.Min(lowest, shard.CheckpointPosition ?? 0);
            return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        }, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));

        Assert.True(done.Status == ScanRunStatus.Completed, $"run is {done.Status}; log: {nodes.Tail(second)}");
        Assert.Equal(1, done.ResumeCount);
        Assert.True(lowest >= atCrash.CheckpointPosition, $"the stored checkpoint fell back to {lowest} after the resume (it was {atCrash.CheckpointPosition})");
        await using var check = contexts();
        var found = await check.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId).Select(o => o.Port).ToListAsync();
        Assert.Single(found, p => p == port);                   // found once, before or after the crash
        Assert.Equal(found.Count, found.Distinct().Count());     // nothing written twice
        // Every probe counted exactly once across the crash: the verdicts add up to the ports, and coverage agrees with the replies.
        Assert.Equal(Ports, done.ClosedCount + done.FilteredCount + done.OpenCount);
        var coverage = await check.ScanTargetCoverage.AsNoTracking().SingleAsync(c => c.ScanRunId == runId);
        Assert.Equal(done.RepliesReceived, coverage.PortsAnswered);
        Assert.InRange(coverage.PortsAnswered, 1, Ports);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    [PostgresFact]
    public async Task SignIn_OnOneNode_TheCookieWorksOnTheOther()
    {
        var (connectionString, drop) = PostgresTests.NewDatabase();
        try
        {
            await using (var db = PostgresTests.Contexts(connectionString)())
                await db.Database.MigrateAsync();
            var nodeA = nodes.Start("a", connectionString);
            var nodeB = nodes.Start("b", connectionString);
            var addressA = await nodes.AddressAsync(nodeA);
            var addressB = await nodes.AddressAsync(nodeB);

            var cookies = new System.Net.CookieContainer();
            using var a = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = addressA };
            var signIn = await PortWatchAppFactory.SignInAsync(a, "admin", "Admin-Password-1");
            Assert.Equal(System.Net.HttpStatusCode.Redirect, signIn.StatusCode);

            // The same cookie, sent to the other node (a load balancer without sticky sessions does this).
            using var b = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = addressB };
            var cookieHeader = cookies.GetCookieHeader(addressA);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/findings");
            request.Headers.Add("Cookie", cookieHeader);
            var answer = await b.SendAsync(request);
            Assert.True(answer.StatusCode == System.Net.HttpStatusCode.OK, $"node B answered {(int)answer.StatusCode} to node A's cookie");
        }
        finally
        {
            nodes.Dispose();
            await drop();
        }
    }

    public void Dispose() => nodes.Dispose();
}
