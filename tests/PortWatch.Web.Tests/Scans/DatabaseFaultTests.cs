using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;
using PortWatch.Web.Scans;

namespace PortWatch.Web.Tests.Scans;

/// <summary>
/// The database refuses writes for a while in the middle of a scan (here another process holds
/// SQLite's write lock for 12 s, and PortWatch gives up on a lock after 1 s): the scan waits and
/// retries instead of failing, /health says Unhealthy with the reason meanwhile, API changes are
/// refused with 503, and once writes come back the run continues from where it was and completes
/// with every probe counted once.
/// </summary>
public sealed class DatabaseFaultTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "portwatch-tests", $"fault-{Guid.NewGuid():N}");
    private readonly PortWatchAppFactory app;

    public DatabaseFaultTests()
    {
        Directory.CreateDirectory(directory);
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = $"Data Source={DatabaseFile};Default Timeout=1",
        });
    }

    private string DatabaseFile => Path.Combine(directory, "portwatch.db");

    [Fact]
    public async Task Run_DatabaseRefusesWritesForAWhile_WaitsReportsUnhealthyAndCompletesFromWhereItWas()
    {
        using var listener = new LoopbackListener();
        const int Ports = 30_000;
        int profileId;
        await using (var db = await app.CreateDbContextAsync())
        {
            var profile = new ScanProfile
            {
                Name = "fault", TcpPorts = $"1-{Ports - 1},{listener.Port}", Engine = ScanEngineKind.Connect, RatePps = 2500, Retries = 0, TimeoutMs = 500,
                ServiceDetection = false,
            };
            db.ScanProfiles.Add(profile);
            await db.SaveChangesAsync();
            profileId = profile.Id;
        }
        using var client = await app.CreateTokenClientAsync("fault-analyst", Roles.Analyst);
        var runId = await app.Services.GetRequiredService<ScanQueue>().QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profileId, RequestedBy = "test" });
        await Eventually.WaitAsync(() => RunAsync(runId), r => r.Status == ScanRunStatus.Running && r.CheckpointPosition > 2000, TimeSpan.FromSeconds(30));

        long checkpointDuringOutage;
        await using (var blocker = new SqliteConnection($"Data Source={DatabaseFile};Default Timeout=30"))
        {
            await blocker.OpenAsync();
            await using var hold = blocker.CreateCommand();
            hold.CommandText = "BEGIN IMMEDIATE"; // the write lock: readers go on (WAL), every writer waits, then fails
            await hold.ExecuteNonQueryAsync();
            var outage = System.Diagnostics.Stopwatch.StartNew();

            var health = await Eventually.WaitAsync(() => client.GetAsync("/health"), r => r.StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(8));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            using (var report = JsonDocument.Parse(await health.Content.ReadAsStringAsync()))
            {
                Assert.Equal("Unhealthy", report.RootElement.GetProperty("status").GetString());
                Assert.Contains("database writes fail", report.RootElement.GetProperty("checks")[0].GetProperty("description").GetString());
            }
            var refused = await client.PostAsJsonAsync("/api/v1/assets/bulk", new[] { new { target = "192.0.2.99", name = "during-outage" } });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            checkpointDuringOutage = (await RunAsync(runId)).CheckpointPosition ?? 0;
            Assert.Equal(ScanRunStatus.Running, (await RunAsync(runId)).Status);

            // The outage itself lasts 12 s: far longer than one write may wait for the lock, shorter than Scanning:WriteRetrySeconds.
            var rest = TimeSpan.FromSeconds(12) - outage.Elapsed;
            if (rest > TimeSpan.Zero)
                await Task.Delay(rest);
            hold.CommandText = "ROLLBACK";
            await hold.ExecuteNonQueryAsync();
        }

        var done = await Eventually.WaitAsync(() => RunAsync(runId), r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(60));
        Assert.True(done.Status == ScanRunStatus.Completed, $"run is {done.Status}: {done.Error}");
        Assert.True(done.CheckpointPosition > checkpointDuringOutage, "the run went on after the outage");
        Assert.Equal(0, done.ResumeCount); // it waited and continued; nothing had to start over
        Assert.Equal(Ports, done.ClosedCount + done.FilteredCount + done.OpenCount);
        var healthy = await Eventually.WaitAsync(() => client.GetAsync("/health"), r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        var accepted = await client.PostAsJsonAsync("/api/v1/assets/bulk", new[] { new { target = "192.0.2.99", name = "after-outage" } });
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Cancel_RunWhoseShardLostItsNode_EndsTheRunCancelled()
    {
        int profileId;
        long runId;
        await using (var db = await app.CreateDbContextAsync())
        {
            var profile = new ScanProfile { Name = "orphan", TcpPorts = "1-100", Engine = ScanEngineKind.Connect, ServiceDetection = false };
            db.ScanProfiles.Add(profile);
            await db.SaveChangesAsync();
            profileId = profile.Id;
            // A run whose only shard was running on a node that is gone (no heartbeat for a minute), and one shard never started.
            var run = new ScanRun { Status = ScanRunStatus.Running, Phase = RunPhase.Discovery, ScanProfileId = profileId, TargetSpec = "192.0.2.1-192.0.2.2", CreatedAt = DateTime.UtcNow, StartedAt = DateTime.UtcNow };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
            db.ScanShards.AddRange(
                new ScanShard { ScanRunId = runId, Index = 0, TargetCount = 1, Status = ScanRunStatus.Running, Node = "gone:1", HeartbeatAt = DateTime.UtcNow.AddMinutes(-1), CheckpointPosition = 40 },
                new ScanShard { ScanRunId = runId, Index = 1, FirstTarget = 1, TargetCount = 1, Status = ScanRunStatus.Queued });
            await db.SaveChangesAsync();
        }

        Assert.True(await app.Services.GetRequiredService<ScanQueue>().CancelAsync(runId, "test"));

        var done = await Eventually.WaitAsync(() => RunAsync(runId), r => r.Status != ScanRunStatus.Running, TimeSpan.FromSeconds(20));
        Assert.Equal(ScanRunStatus.Cancelled, done.Status);
        await using var check = await app.CreateDbContextAsync();
        Assert.All(await check.ScanShards.Where(s => s.ScanRunId == runId).ToListAsync(), s => Assert.Equal(ScanRunStatus.Cancelled, s.Status));
    }

    private async Task<ScanRun> RunAsync(long runId)
    {
        await using var db = await app.CreateDbContextAsync();
        return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
    }

    public void Dispose()
    {
        app.Dispose();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
