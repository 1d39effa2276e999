using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Alerts;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Tests.Scans;

/// <summary>
/// Scan runs through the real host: Quartz on the SQLite store, the pipeline, the database.
/// Targets are listeners on 127.0.0.1 (loopback only), scanned with the connect engine.
/// </summary>
public sealed class ScanJobTests : IDisposable
{
    private readonly List<BannerListener> listeners = [];

    /// <summary>A listener on 127.0.0.1 that greets with the banner and hangs up after 200 ms; returns its port.</summary>
    private int Listen(string banner = "")
    {
        var listener = new BannerListener(banner, TimeSpan.FromMilliseconds(200));
        listeners.Add(listener);
        return listener.Port;
    }


    private static async Task<int> ProfileAsync(PortWatchAppFactory app, string ports, int rate = 5000, bool services = true)
    {
        await using var db = await app.CreateDbContextAsync();
        var profile = new ScanProfile
        {
            Name = $"test-{Guid.NewGuid():N}", TcpPorts = ports, Engine = ScanEngineKind.Connect, RatePps = rate,
            Retries = 0, TimeoutMs = 500, ServiceDetection = services, VersionIntensity = 2,
        };
        db.ScanProfiles.Add(profile);
        await db.SaveChangesAsync();
        return profile.Id;
    }

    private static async Task<ScanRun> WaitForAsync(PortWatchAppFactory app, long runId, Func<ScanRun, bool> condition, int seconds = 60)
    {
        var run = await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.ScanRuns.AsNoTracking().Include(r => r.Coverage).SingleAsync(r => r.Id == runId);
        }, condition, TimeSpan.FromSeconds(seconds));
        return condition(run) ? run : throw new TimeoutException($"run {runId} is {run.Status} ({run.Phase}, error {run.Error})");
    }

    [Fact]
    public async Task QueueAsync_LoopbackListeners_CompletesWithObservationsServicesAndFindings()
    {
        using var app = new PortWatchAppFactory();
        var ssh = Listen("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n");
        var quiet = Listen();
        var closed = FreePorts.Tcp();
        var profile = await ProfileAsync(app, $"{ssh},{quiet},{closed}");
        var queue = app.Services.GetRequiredService<ScanQueue>();

        var runId = await queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profile, RequestedBy = "test" });
        var run = await WaitForAsync(app, runId, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed);

        Assert.Equal(ScanRunStatus.Completed, run.Status);
        Assert.Null(run.Error);
        Assert.Equal(2, run.OpenCount);
        Assert.Equal(1, run.ClosedCount);
        var coverage = Assert.Single(run.Coverage);
        Assert.Equal(TargetCoverageStatus.Complete, coverage.Status);
        await using var db = await app.CreateDbContextAsync();
        var observations = await db.PortObservations.Include(o => o.Service).Where(o => o.ScanRunId == runId).ToListAsync();
        Assert.Equal(new[] { ssh, quiet }.Order(), observations.Select(o => o.Port).Order());
        var sshService = observations.Single(o => o.Port == ssh).Service;
        Assert.Equal(("ssh", "OpenSSH"), (sshService?.Name, sshService?.Product));
        Assert.StartsWith("SSH-2.0-OpenSSH_9.2p1", sshService!.Banner, StringComparison.Ordinal);
        var findings = await db.Findings.Where(f => f.Address == "127.0.0.1").ToListAsync();
        Assert.Equal(2, findings.Count);
        Assert.All(findings, f => Assert.Equal((PortState.Open, TriageStatus.Unreviewed, runId), (f.CurrentState, f.Status, f.LastRunId!.Value)));
        Assert.Equal("OpenSSH", findings.Single(f => f.Port == ssh).Product);
    }

    /// <summary>
    /// A DNS server on a port of no service answers only DNS: the UDP port scan's empty datagram gets silence
    /// (open|filtered), and service detection's DNS question shows it open, with product and version, as a finding.
    /// </summary>
    [Fact]
    public async Task QueueAsync_UdpServiceThatAnswersOnlyItsProtocol_IsFoundOpenWithItsProduct()
    {
        using var app = new PortWatchAppFactory();
        using var dns = new FakeDnsServer();
        int profile;
        await using (var db = await app.CreateDbContextAsync())
        {
            var p = new ScanProfile
            {
                Name = $"test-{Guid.NewGuid():N}", TcpPorts = FreePorts.Tcp().ToString(System.Globalization.CultureInfo.InvariantCulture), UdpEnabled = true, UdpPorts = dns.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Engine = ScanEngineKind.Connect, RatePps = 1000, Retries = 0, TimeoutMs = 300, ServiceDetection = true, VersionIntensity = 2,
            };
            db.ScanProfiles.Add(p);
            await db.SaveChangesAsync();
            profile = p.Id;
        }

        var runId = await app.Services.GetRequiredService<ScanQueue>().QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profile, RequestedBy = "test" });
        var run = await WaitForAsync(app, runId, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed);

        Assert.Equal((ScanRunStatus.Completed, 1), (run.Status, run.OpenCount));
        await using var read = await app.CreateDbContextAsync();
        var observation = await read.PortObservations.Include(o => o.Service).SingleAsync(o => o.ScanRunId == runId);
        Assert.Equal((TransportProtocol.Udp, PortState.Open, "udp-response"), (observation.Protocol, observation.State, observation.Reason));
        Assert.Equal(("domain", "dnsmasq", "2.90"), (observation.Service?.Name, observation.Service?.Product, observation.Service?.Version));
        var finding = await read.Findings.SingleAsync(f => f.Address == "127.0.0.1" && f.Port == dns.Port);
        Assert.Equal((TransportProtocol.Udp, PortState.Open, "dnsmasq", "2.90"), (finding.Protocol, finding.CurrentState, finding.Product, finding.Version));
    }

    [Fact]
    public async Task QueueAsync_ManyTargets_SplitsIntoShardsAndCompletesOnce()
    {
        using var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Scanning:ShardSize"] = "2" });
        var port = Listen(); // on 127.0.0.1 only: 127.0.0.2-5 answer with resets
        var profile = await ProfileAsync(app, $"{port}", services: false);

        var runId = await app.Services.GetRequiredService<ScanQueue>().QueueAsync(new ScanRequest { Targets = "127.0.0.1-127.0.0.5", ProfileId = profile });
        var run = await WaitForAsync(app, runId, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed);

        Assert.Equal(ScanRunStatus.Completed, run.Status);
        await using var db = await app.CreateDbContextAsync();
        var shards = await db.ScanShards.Where(s => s.ScanRunId == runId).OrderBy(s => s.Index).ToListAsync();
        Assert.Equal([2L, 2L, 1L], shards.Select(s => s.TargetCount));
        Assert.All(shards, s => Assert.Equal(ScanRunStatus.Completed, s.Status));
        Assert.Equal(5, run.Coverage.Count);
        Assert.All(run.Coverage, c => Assert.Equal(TargetCoverageStatus.Complete, c.Status));
        Assert.Equal((1, 4), (run.OpenCount, run.ClosedCount));
        Assert.Equal(port, (await db.PortObservations.SingleAsync(o => o.ScanRunId == runId)).Port);
    }

    [Fact]
    public async Task QueueAsync_PortClosesBeforeTheNextRun_FindingIsMarkedClosed()
    {
        using var app = new PortWatchAppFactory();
        var open = Listen();
        var goingAway = Listen();
        var profile = await ProfileAsync(app, $"{open},{goingAway}", services: false);
        var queue = app.Services.GetRequiredService<ScanQueue>();
        var first = await queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profile });
        await WaitForAsync(app, first, r => r.Status == ScanRunStatus.Completed);

        listeners.Single(l => l.Port == goingAway).Dispose();
        var second = await queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profile });
        await WaitForAsync(app, second, r => r.Status == ScanRunStatus.Completed);

        await using var db = await app.CreateDbContextAsync();
        var findings = await db.Findings.Where(f => f.Address == "127.0.0.1").ToDictionaryAsync(f => f.Port);
        Assert.Equal(PortState.Open, findings[open].CurrentState);
        Assert.Equal(PortState.Closed, findings[goingAway].CurrentState);
    }

    [Fact]
    public async Task QueueAsync_NewHighRiskPortAfterTheBaseline_OneConfirmedWebhookDigest()
    {
        using var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Alerts:RecheckTimeoutMs"] = "1000" });
        using var webhook = new WebhookSink();
        var known = Listen();
        var appeared = Listen("SSH-2.0-OpenSSH_9.2p1\r\n");
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RiskCatalogueService>()
                .SaveAsync(new RiskRule { Port = appeared, Protocol = TransportProtocol.Tcp, Name = "Test admin SSH", Severity = Severity.High }, "admin");
            await scope.ServiceProvider.GetRequiredService<AlertChannelService>()
                .SaveAsync(new AlertChannel { Name = "soc", Kind = AlertChannelKind.Webhook, Target = webhook.Url, MinimumSeverity = Severity.High }, "admin");
        }
        var queue = app.Services.GetRequiredService<ScanQueue>();
        var baseline = await queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = await ProfileAsync(app, $"{known}", services: false) });
        await WaitForAsync(app, baseline, r => r.Status == ScanRunStatus.Completed);
        var wider = await ProfileAsync(app, $"{known},{appeared}");

        var second = await queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = wider });
        await WaitForAsync(app, second, r => r.Status == ScanRunStatus.Completed);
        var third = await queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = wider });
        await WaitForAsync(app, third, r => r.Status == ScanRunStatus.Completed);

        var body = Assert.Single(webhook.Bodies);
        Assert.Contains($"\"port\":{appeared}", body, StringComparison.Ordinal);
        Assert.Contains("\"product\":\"OpenSSH\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain($"\"port\":{known}", body, StringComparison.Ordinal);
        await using var db = await app.CreateDbContextAsync();
        var delivery = await db.AlertDeliveries.SingleAsync();
        Assert.Equal((second, AlertDeliveryStatus.Sent), (delivery.ScanRunId!.Value, delivery.Status));
    }

    [Fact]
    public async Task QueueAsync_ScannersOwnAddressByDefault_IsLeftOutAndTheRunSaysSo()
    {
        using var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Scanning:ExcludeScannerAddresses"] = "true" });
        var profile = await ProfileAsync(app, $"{Listen()}", services: false);

        var runId = await app.Services.GetRequiredService<ScanQueue>().QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profile });
        var run = await WaitForAsync(app, runId, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed);

        Assert.Equal(ScanRunStatus.Failed, run.Status);
        Assert.Contains("Every target is this scanner's own address (127.0.0.1)", run.Error, StringComparison.Ordinal);
        Assert.Contains("ExcludeScannerAddresses", run.Error, StringComparison.Ordinal);
        await using var db = await app.CreateDbContextAsync();
        Assert.False(await db.PortObservations.AnyAsync(o => o.ScanRunId == runId));
    }

    [Fact]
    public async Task QueueAsync_OneAssetOrATag_ScansTheirAddresses()
    {
        using var app = new PortWatchAppFactory();
        var port = Listen();
        var profile = await ProfileAsync(app, $"{port}", services: false);
        int assetId;
        await using (var db = await app.CreateDbContextAsync())
        {
            var asset = new Asset { Name = "lo", Target = "", RangeStart = "", RangeEnd = "", Tags = ["lab"], CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
            asset.SetRange(PortWatch.Scanning.Targets.IpRange.Parse("127.0.0.1"));
            db.Assets.Add(asset);
            await db.SaveChangesAsync();
            assetId = asset.Id;
        }
        var queue = app.Services.GetRequiredService<ScanQueue>();

        var byAsset = await WaitForAsync(app, await queue.QueueAsync(new ScanRequest { AssetIds = [assetId], ProfileId = profile }), r => r.Status == ScanRunStatus.Completed);
        var byTag = await WaitForAsync(app, await queue.QueueAsync(new ScanRequest { Tag = "lab", ProfileId = profile }), r => r.Status == ScanRunStatus.Completed);
        var nothing = await Assert.ThrowsAsync<ScanRequestException>(() => queue.QueueAsync(new ScanRequest { Tag = "no-such-tag", ProfileId = profile }));

        Assert.Equal(("127.0.0.1", 1), (byAsset.TargetSpec, byAsset.OpenCount));
        Assert.Equal(("127.0.0.1", 1), (byTag.TargetSpec, byTag.OpenCount));
        Assert.Contains("nothing to scan", nothing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueAsync_TargetOutsideScope_IsRefusedWithAReadableMessage()
    {
        using var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Scanning:AllowedScope:0"] = "198.18.0.0/15" });
        var profile = await ProfileAsync(app, "80");
        var queue = app.Services.GetRequiredService<ScanQueue>();

        var ex = await Assert.ThrowsAsync<ScanRequestException>(() => queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profile }));

        Assert.Contains("'127.0.0.1': outside the allowed scope (198.18.0.0/15)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_BadProfile_FailsWithReadableErrorAndSchedulerKeepsWorking()
    {
        using var app = new PortWatchAppFactory();
        var open = Listen();
        var good = await ProfileAsync(app, $"{open}", services: false);
        long badRun;
        await using (var db = await app.CreateDbContextAsync())
        {
            // A profile edited behind the queue's back: its port list no longer parses.
            var profile = await db.ScanProfiles.SingleAsync(p => p.Id == good);
            var bad = new ScanProfile { Name = "broken", TcpPorts = "22,70000", Engine = ScanEngineKind.Connect };
            db.ScanProfiles.Add(bad);
            await db.SaveChangesAsync();
            var run = new ScanRun { Status = ScanRunStatus.Queued, ScanProfileId = bad.Id, TargetSpec = "127.0.0.1", CreatedAt = DateTime.UtcNow };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            badRun = run.Id;
        }
        var queue = app.Services.GetRequiredService<ScanQueue>();

        await queue.ScheduleAsync(badRun);
        var failed = await WaitForAsync(app, badRun, r => r.Status is ScanRunStatus.Failed or ScanRunStatus.Completed);
        var next = await queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = good });
        var completed = await WaitForAsync(app, next, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed);

        Assert.Equal(ScanRunStatus.Failed, failed.Status);
        Assert.Equal("Cannot scan: '70000': port must be 0 to 65535", failed.Error);
        Assert.Equal(ScanRunStatus.Completed, completed.Status);
    }

    [Fact]
    public async Task CancelAsync_RunningScan_StopsWithinSecondsAndKeepsWhatWasFound()
    {
        using var app = new PortWatchAppFactory();
        Listen();
        var profile = await ProfileAsync(app, "1-65535", rate: 2000, services: false); // about 33 s in full
        var queue = app.Services.GetRequiredService<ScanQueue>();
        var runId = await queue.QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profile });
        await WaitForAsync(app, runId, r => r.Status == ScanRunStatus.Running && r.PacketsSent > 0);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await queue.CancelAsync(runId));
        var run = await WaitForAsync(app, runId, r => r.Status != ScanRunStatus.Running, seconds: 10);

        Assert.Equal(ScanRunStatus.Cancelled, run.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(TargetCoverageStatus.Partial, Assert.Single(run.Coverage).Status);
        Assert.InRange(run.ClosedCount, 1, 65_000);
    }

    [Fact]
    public async Task Run_HostStoppedMidScanAndStartedAgain_ResumesAndFindsTheSameOpenPorts()
    {
        var open = new[] { Listen(), Listen(), Listen() };
        long runId;
        string dataDirectory;
        using (var first = new PortWatchAppFactory { KeepDataDirectory = true })
        {
            dataDirectory = first.DataDirectory;
            var profile = await ProfileAsync(first, "1-65535", rate: 4000, services: false); // about 16 s in full
            runId = await first.Services.GetRequiredService<ScanQueue>().QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profile });
            await WaitForAsync(first, runId, r => r.Status == ScanRunStatus.Running && r.CheckpointPosition > 4000);
        } // the host stops mid-scan

        using var second = PortWatchAppFactory.Create(dataDirectory);
        try
        {
            _ = second.Server;
            var run = await WaitForAsync(second, runId, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, seconds: 90);

            Assert.Equal(ScanRunStatus.Completed, run.Status);
            Assert.Equal(1, run.ResumeCount);
            await using var db = await second.CreateDbContextAsync();
            var found = await db.PortObservations.Where(o => o.ScanRunId == runId).Select(o => o.Port).ToListAsync();
            // Loopback has other listeners too (the test host's own); ours must each be there exactly once,
            // whether found before the stop or after the resume.
            Assert.All(open, port => Assert.Single(found, p => p == port));
            Assert.Equal(found.Count, found.Distinct().Count());
        }
        finally
        {
            second.KeepDataDirectory = false;
        }
    }

    public void Dispose()
    {
        foreach (var listener in listeners)
            listener.Dispose();
    }
}
