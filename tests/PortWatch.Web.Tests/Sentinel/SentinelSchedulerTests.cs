using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Sentinel;
using Quartz;

namespace PortWatch.Web.Tests.Sentinel;

/// <summary>
/// The sentinel's Quartz side, as an operator turns it on: both jobs scheduled at the configured
/// interval once the app has started, and their firings (through Quartz, not by calling the
/// services) start a pass and recover a lost host.
/// </summary>
public sealed class SentinelSchedulerTests : IAsyncLifetime
{
    private PortWatchAppFactory app = null!;
    private Socket listener = null!;
    private int port;

    public async Task InitializeAsync()
    {
        listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(64);
        port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Sentinel:Enabled"] = "true",
            ["Sentinel:IntervalMinutes"] = "2",
            ["Sentinel:Engine"] = "Connect",
            ["Sentinel:TimeoutMs"] = "300",
            ["Sentinel:Retries"] = "1",
            ["Sentinel:RecoveryPollSeconds"] = "1",
            ["Sentinel:RecoverySpacingMs"] = "0",
            ["Sentinel:RecoveryTimeoutMs"] = "500",
        });
        await using var db = await app.CreateDbContextAsync();
        var asset = TestAssets.For("127.0.0.1", "loopback");
        db.Assets.Add(asset);
        // The catalogue is the test's own: whatever else listens on this machine's loopback is not in it.
        db.RiskRules.RemoveRange(db.RiskRules);
        db.RiskRules.Add(new RiskRule { Port = port, Protocol = TransportProtocol.Tcp, Name = "Test service", Severity = Severity.Medium });
        // A scheduled scan lost the host after it had answered on the listener's port before.
        var now = DateTime.UtcNow;
        var run = new ScanRun { Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Scheduled, TargetSpec = "127.0.0.1", CreatedAt = now, StartedAt = now, FinishedAt = now, ScannedTcpPorts = "1-65535" };
        db.ScanRuns.Add(run);
        await db.SaveChangesAsync();
        db.ScanTargetCoverage.Add(new ScanTargetCoverage
        {
            ScanRunId = run.Id, Address = "127.0.0.1", AddressKey = IpKey.From(IPAddress.Loopback), PortsPlanned = 65535, PortsAnswered = 1, Status = TargetCoverageStatus.Lost,
            Note = "answered 1 probe, then nothing",
        });
        db.Findings.Add(new Finding
        {
            Address = "127.0.0.1", AddressKey = IpKey.From(IPAddress.Loopback), Port = port, CurrentState = PortState.Open, AssetId = asset.Id,
            FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now, LastRunId = run.Id, AlertFingerprint = "Port|Open||",
        });
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        listener.Dispose();
    }

    [Fact]
    public async Task SentinelScheduler_Enabled_SchedulesBothJobsAtTheIntervalAndTheirFiringsPassAndRecover()
    {
        var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var keys = await Eventually.WaitAsync(async () => await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.GroupEquals(SentinelScheduler.Group)),
            k => k.Count == 2, TimeSpan.FromSeconds(30));
        foreach (var key in keys)
        {
            var trigger = Assert.IsAssignableFrom<ISimpleTrigger>(await scheduler.GetTrigger(key));
            Assert.Equal(TimeSpan.FromMinutes(2), trigger.RepeatInterval);
        }

        await scheduler.TriggerJob(SentinelPassJob.Key);
        await scheduler.TriggerJob(CoverageRecoveryJob.Key);

        var runs = await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.ScanRuns.AsNoTracking().Where(r => r.Trigger == ScanTrigger.Sentinel || r.Trigger == ScanTrigger.Recovery).ToListAsync();
        }, r => r.Any(x => x.Trigger == ScanTrigger.Sentinel && x.FinishedAt is not null) && r.Any(x => x.Trigger == ScanTrigger.Recovery), TimeSpan.FromSeconds(60));
        // (On a slow machine the triggers' own first firings, 30 and 45 s after start, may add a run of each: the first is the test's.)
        var pass = runs.Where(r => r.Trigger == ScanTrigger.Sentinel).MinBy(r => r.Id)!;
        var recovery = runs.Where(r => r.Trigger == ScanTrigger.Recovery).MinBy(r => r.Id)!;
        Assert.True(pass.Status == ScanRunStatus.Completed, $"{pass.Status}: {pass.Error}");
        Assert.Contains($"1 of 1 known-open port(s) confirmed open ({port})", recovery.Notes);
        await using var check = await app.CreateDbContextAsync();
        Assert.Equal(PortState.Open, (await check.Findings.AsNoTracking().SingleAsync(f => f.Port == port)).CurrentState);
        // It answered at once on every known port: a passing outage, not a trap. No label, so the passes keep covering it.
        Assert.False(await check.HostLabels.AnyAsync(), "a host that answered at once was labelled anti-scan trap suspected");
    }
}
