using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Tests.Data;

namespace PortWatch.Web.Tests.Scans;

/// <summary>
/// One finaliser per run, with real nodes on PostgreSQL: a node that starts while another is
/// finalising (here: slow service detection of a silent port) must not run service detection,
/// triage or alerts a second time; a finaliser killed part-way is taken over once its lease expires.
/// </summary>
public sealed class FinalizerClusterTests : IDisposable
{
    private const int LeaseSeconds = 6;

    private readonly ClusterNodes nodes = new();

    /// <summary>A port that accepts and then says nothing: service detection waits on it, which keeps the run finalising.</summary>
    private readonly BannerListener silent = new("", hold: TimeSpan.FromMinutes(2));

    private readonly BannerListener banner = new("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", hold: TimeSpan.FromSeconds(30));

    private readonly WebhookSink webhook = new();

    /// <summary>
    /// A probe database whose 48 probes nothing answers, so the silent port's detection takes six rounds of the probe wait
    /// (about 18 s) however fast the runner gets at everything else, and an SSH banner pattern for the other port.
    /// </summary>
    private static readonly string SlowProbes = WriteSlowProbes();

    private static string WriteSlowProbes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"portwatch-slow-probes-{Environment.ProcessId}");
        File.WriteAllText(path, "Probe TCP NULL q||\nmatch ssh m|^SSH-([\\d.]+)-OpenSSH_([\\w.]+)| p/OpenSSH/ v/$2/\n" +
            string.Concat(Enumerable.Range(1, 48).Select(i => $"Probe TCP Slow{i} q|portwatch-{i}\\r\\n|\nrarity 1\n")));
        return path;
    }

    private static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["Scanning__LeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Scanning__ProbeDatabasePath"] = SlowProbes,
        ["Alerts__ConfirmBeforeAlert"] = "false",
        ["Alerts__AllowedWebhookHosts__0"] = "127.0.0.1",
    };

    /// <summary>A run over two loopback ports, one of which answers nothing (service detection waits on it), with a baseline already in place so its findings alert.</summary>
    private static async Task<long> QueueRunAsync(Func<PortWatchDbContext> contexts, int silentPort, int bannerPort, string webhook)
    {
        await using var db = contexts();
        await db.Database.MigrateAsync();
        var profile = new ScanProfile
        {
            Name = "finalizer", TcpPorts = $"{silentPort},{bannerPort}", Engine = ScanEngineKind.Connect, RatePps = 100, Retries = 0, TimeoutMs = 500,
            ServiceDetection = true, VersionIntensity = 7,
        };
        db.ScanProfiles.Add(profile);
        db.AlertChannels.Add(new AlertChannel { Name = "hook", Kind = AlertChannelKind.Webhook, Target = webhook, MinimumSeverity = Severity.Info, Enabled = true, CreatedAt = DateTime.UtcNow });
        var baseline = new ScanRun { Status = ScanRunStatus.Completed, TargetSpec = "127.0.0.1", CreatedAt = DateTime.UtcNow.AddDays(-1), FinishedAt = DateTime.UtcNow.AddDays(-1) };
        db.ScanRuns.Add(baseline);
        await db.SaveChangesAsync();
        db.ScanTargetCoverage.Add(new ScanTargetCoverage
        {
            ScanRunId = baseline.Id, Address = "127.0.0.1", AddressKey = IpKey.From(System.Net.IPAddress.Loopback), PortsPlanned = 2, PortsAnswered = 2,
            Status = TargetCoverageStatus.Complete,
        });
        var run = new ScanRun { Status = ScanRunStatus.Queued, ScanProfileId = profile.Id, TargetSpec = "127.0.0.1", CreatedAt = DateTime.UtcNow };
        db.ScanRuns.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    /// <summary>The run queued and a first node started on it, once that node is in the run's service detection (a silent port keeps it there).</summary>
    private async Task<(long RunId, Process First)> StartFinalisingAsync(string connectionString, Func<PortWatchDbContext> contexts)
    {
        var runId = await QueueRunAsync(contexts, silent.Port, banner.Port, webhook.Url);
        var first = nodes.Start("first", connectionString, settings: Settings);
        var detecting = await Eventually.WaitAsync(() => RunAsync(contexts, runId),
            r => r.Phase == RunPhase.ServiceDetection || r.Status is not (ScanRunStatus.Running or ScanRunStatus.Queued), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        Assert.True(detecting.Phase == RunPhase.ServiceDetection, $"run is {detecting.Status}/{detecting.Phase}; log: {nodes.Tail(first)}");
        return (runId, first);
    }

    private static async Task<ScanRun> RunAsync(Func<PortWatchDbContext> contexts, long runId)
    {
        await using var db = contexts();
        return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
    }

    /// <summary>Triggers Quartz still holds for the run's jobs (coordinator, shards, looks at finalising).</summary>
    private static async Task<int> QuartzTriggersAsync(Func<PortWatchDbContext> contexts, long runId)
    {
        await using var db = contexts();
        var pattern = $"run-{runId}-%";
        return await db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM qrtz_triggers WHERE job_name = {$"run-{runId}"} OR job_name LIKE {pattern}").SingleAsync();
    }

    private static async Task AssertFinalisedOnceAsync(Func<PortWatchDbContext> contexts, long runId, WebhookSink webhook, int silentPort, int bannerPort)
    {
        await using var db = contexts();
        var run = await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        Assert.Equal(ScanRunStatus.Completed, run.Status);
        Assert.Null(run.Error);
        var observations = await db.PortObservations.AsNoTracking().Include(o => o.Service).Where(o => o.ScanRunId == runId).ToListAsync();
        Assert.Contains(observations, o => o.Port == silentPort);
        Assert.Contains(observations, o => o.Port == bannerPort);
        var ids = observations.Select(o => o.Id).ToList();
        var services = await db.ServiceInfos.AsNoTracking().Where(s => ids.Contains(s.PortObservationId)).ToListAsync();
        Assert.Equal(services.Count, services.Select(s => s.PortObservationId).Distinct().Count()); // identified once per port
        var events = await db.FindingEvents.AsNoTracking().Where(e => e.ScanRunId == runId).ToListAsync();
        foreach (var kind in new[] { FindingEventKind.New, FindingEventKind.Alerted })
        {
            var perFinding = events.Where(e => e.Kind == kind).GroupBy(e => e.FindingId).ToList();
            Assert.True(perFinding.Count >= 2, $"{kind} events: {perFinding.Count} findings");
            Assert.All(perFinding, g => Assert.Single(g));
        }
        Assert.Equal(1, await db.AlertDeliveries.CountAsync(d => d.ScanRunId == runId));
        await Eventually.WaitAsync(() => Task.FromResult(webhook.Bodies.Count), n => n >= 1, TimeSpan.FromSeconds(10));
        Assert.Single(webhook.Bodies);
    }

    [PostgresFact]
    public async Task Finalize_NodeStartsDuringFinalisation_NothingRunsTwiceAndTheOutcomeStands()
    {
        var (connectionString, drop) = PostgresTests.NewDatabase();
        var contexts = PostgresTests.Contexts(connectionString);
        try
        {
            var (runId, first) = await StartFinalisingAsync(connectionString, contexts);

            // A second node starts while the first is finalising: its start-up hands every running run back to the scheduler.
            var second = nodes.Start("second", connectionString, settings: Settings);
            var done = await Eventually.WaitAsync(() => RunAsync(contexts, runId), r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(120));
            Assert.True(done.Status == ScanRunStatus.Completed, $"run is {done.Status} ({done.Error}); first: {nodes.Tail(first)}; second: {nodes.Tail(second)}");
            Assert.True(ClusterNodes.Owns(first, done.FinalizerNode), $"finalised by {done.FinalizerNode}");
            await AssertFinalisedOnceAsync(contexts, runId, webhook, silent.Port, banner.Port);

            // The second node did come while the first was finalising, and left it to the first ...
            Assert.Contains($"Scan run {runId} is being finalised by", nodes.Tail(second, 200_000));
            // ... and once the look it scheduled for the lease's end has run, the outcome still stands.
            var pending = await Eventually.WaitAsync(() => QuartzTriggersAsync(contexts, runId), n => n == 0, TimeSpan.FromSeconds(4 * LeaseSeconds));
            Assert.Equal(0, pending);
            await AssertFinalisedOnceAsync(contexts, runId, webhook, silent.Port, banner.Port);
        }
        finally
        {
            nodes.Dispose();
            await drop();
        }
    }

    [PostgresFact]
    public async Task Finalize_FinaliserKilledPartWay_AnotherNodeTakesOverWhenTheLeaseExpires()
    {
        var (connectionString, drop) = PostgresTests.NewDatabase();
        var contexts = PostgresTests.Contexts(connectionString);
        try
        {
            var (runId, first) = await StartFinalisingAsync(connectionString, contexts);
            var second = nodes.Start("second", connectionString, settings: Settings);
            await ClusterNodes.KillAsync(first);
            var killedAt = Stopwatch.StartNew();

            var done = await Eventually.WaitAsync(() => RunAsync(contexts, runId), r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(120));
            Assert.True(done.Status == ScanRunStatus.Completed, $"run is {done.Status}/{done.Phase} ({done.Error}); second: {nodes.Tail(second)}");
            Assert.True(ClusterNodes.Owns(second, done.FinalizerNode), $"finalised by {done.FinalizerNode}");
            Assert.True(killedAt.Elapsed > TimeSpan.FromSeconds(LeaseSeconds - 2), $"taken over {killedAt.Elapsed.TotalSeconds:0.0} s after the kill, before the lease ran out");
            await AssertFinalisedOnceAsync(contexts, runId, webhook, silent.Port, banner.Port);
        }
        finally
        {
            nodes.Dispose();
            await drop();
        }
    }

    public void Dispose()
    {
        nodes.Dispose();
        silent.Dispose();
        banner.Dispose();
        webhook.Dispose();
    }
}
