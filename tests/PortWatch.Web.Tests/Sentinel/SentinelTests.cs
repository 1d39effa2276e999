using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Sentinel;

namespace PortWatch.Web.Tests.Sentinel;

/// <summary>
/// Sentinel passes over loopback: the catalogue's ports on every enabled asset, through the real
/// engine, finaliser, triage and alerts. A high-risk port opened between two passes is found by the
/// next one and alerted; a pass never closes a finding and never becomes a host's baseline.
/// </summary>
public sealed class SentinelTests : IAsyncLifetime
{
    private readonly WebhookSink webhook = new();
    private PortWatchAppFactory app = null!;
    private int newPort;
    private int knownCataloguePort;

    public async Task InitializeAsync()
    {
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Sentinel:Engine"] = "Connect",
            ["Sentinel:TimeoutMs"] = "300",
            ["Sentinel:Retries"] = "1",
            ["Alerts:RecheckTimeoutMs"] = "2000",
        });
        newPort = FreePorts.Tcp();
        knownCataloguePort = FreePorts.Tcp();
        await using var db = await app.CreateDbContextAsync();
        var asset = TestAssets.For("127.0.0.1", "loopback", "ops");
        db.Assets.Add(asset);
        // The catalogue is the test's own: whatever else listens on this machine's loopback is not in it.
        db.RiskRules.RemoveRange(db.RiskRules);
        db.RiskRules.Add(new RiskRule { Port = newPort, Protocol = TransportProtocol.Tcp, Name = "Test Docker API", Severity = Severity.Critical });
        db.RiskRules.Add(new RiskRule { Port = knownCataloguePort, Protocol = TransportProtocol.Tcp, Name = "Test RDP", Severity = Severity.Critical });
        db.AlertChannels.Add(new AlertChannel { Name = "soc", Kind = AlertChannelKind.Webhook, Target = webhook.Url, MinimumSeverity = Severity.High, CreatedAt = DateTime.UtcNow });
        await db.SaveChangesAsync();
        // Known open ports from an earlier scan: one outside the catalogue, and a catalogue port that nothing listens on now.
        var run = new ScanRun { Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Scheduled, TargetSpec = "127.0.0.1", CreatedAt = DateTime.UtcNow, FinishedAt = DateTime.UtcNow };
        db.ScanRuns.Add(run);
        await db.SaveChangesAsync();
        foreach (var port in new[] { 1, knownCataloguePort })
        {
            db.Findings.Add(new Finding
            {
                Address = "127.0.0.1", AddressKey = IpKey.From(IPAddress.Loopback), Port = port, CurrentState = PortState.Open, AssetId = asset.Id,
                FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow, LastRunId = run.Id,
                AlertFingerprint = "Port|Open||", // baselined
            });
        }
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        webhook.Dispose();
    }

    private async Task<ScanRun> PassAsync()
    {
        var passes = app.Services.GetRequiredService<SentinelPasses>();
        var runId = await passes.StartPassAsync();
        Assert.NotNull(runId);
        return await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        }, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed or ScanRunStatus.Cancelled, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task StartPassAsync_HighRiskPortOpenedBetweenPasses_IsFoundOnTheNextPassAndAlertedAndNothingCloses()
    {
        var first = await PassAsync();
        Assert.Equal((ScanRunStatus.Completed, ScanTrigger.Sentinel), (first.Status, first.Trigger));
        await using (var db = await app.CreateDbContextAsync())
            Assert.False(await db.Findings.AnyAsync(f => f.Port == newPort));

        using var listener = Listen(IPAddress.Loopback, newPort);
        var second = await PassAsync();

        Assert.Equal(ScanRunStatus.Completed, second.Status);
        var body = await Eventually.WaitAsync(() => Task.FromResult(webhook.Bodies.FirstOrDefault()), b => b is not null, TimeSpan.FromSeconds(30));
        await using (var db = await app.CreateDbContextAsync())
        {
            var found = await db.Findings.AsNoTracking().SingleAsync(f => f.Port == newPort);
            Assert.Equal((PortState.Open, Severity.Critical), (found.CurrentState, found.Severity));
            var firstEvent = await db.FindingEvents.AsNoTracking().SingleAsync(e => e.FindingId == found.Id && e.Kind == FindingEventKind.New);
            Assert.Equal(second.Id, firstEvent.ScanRunId);
            Assert.DoesNotContain("baseline", firstEvent.Detail ?? "");
            // The known ports stay open: one is outside the pass's ports, the other is in them but silent now. A pass closes nothing.
            Assert.All(await db.Findings.AsNoTracking().Where(f => f.Port == 1 || f.Port == knownCataloguePort).ToListAsync(), f => Assert.Equal(PortState.Open, f.CurrentState));
            Assert.False(await db.FindingEvents.AnyAsync(e => e.Kind == FindingEventKind.Closed || e.Kind == FindingEventKind.CoverageLost));
            // Never full coverage: a pass would otherwise become the host's baseline and hide the next scan's news.
            Assert.All(await db.ScanTargetCoverage.AsNoTracking().Where(c => c.ScanRunId == first.Id || c.ScanRunId == second.Id).ToListAsync(),
                c => Assert.NotEqual(TargetCoverageStatus.Complete, c.Status));
            Assert.False(await db.AuditEntries.AnyAsync(a => a.Action == "run.start"));
        }
        Assert.True(body is not null, await EventsAsync());
        // The finding says how it was found, on its page and in the API.
        using (var client = await app.CreateTokenClientAsync("analyst", PortWatch.Web.Identity.Roles.Analyst))
        {
            int id;
            await using (var db = await app.CreateDbContextAsync())
                id = (int)await db.Findings.Where(f => f.Port == newPort).Select(f => f.Id).SingleAsync();
            using var detail = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/findings/{id}"));
            Assert.Equal(("sentinel", second.Id), (detail.RootElement.GetProperty("detectedBy").GetString(), detail.RootElement.GetProperty("detectedInRun").GetInt64()));
        }
        using var json = JsonDocument.Parse(body!);
        Assert.Equal(newPort, json.RootElement.GetProperty("items")[0].GetProperty("port").GetInt32());
        Assert.Single(webhook.Bodies);
    }

    [Fact]
    public async Task StartPassAsync_HostLabelledTrapSuspected_IsLeftOutOfThePassUntilAFullScanCoversItAgain()
    {
        // The asset spans two loopback addresses; the second one is behind a trap, by its label.
        await using (var db = await app.CreateDbContextAsync())
        {
            var asset = await db.Assets.SingleAsync();
            AddressQueries.SetRange(asset, PortWatch.Scanning.Targets.IpRange.Parse("127.0.0.1-127.0.0.2"));
            db.HostLabels.Add(new HostLabel
            {
                Address = "127.0.0.2", AddressKey = IpKey.From(IPAddress.Parse("127.0.0.2")), Kind = HostLabelKind.AntiScanTrapSuspected, Evidence = "test",
                FirstSetAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow, RecoveryRunId = 1,
            });
            await db.SaveChangesAsync();
        }
        using var first = Listen(IPAddress.Loopback, newPort);
        using var trapped = Listen(IPAddress.Parse("127.0.0.2"), newPort);

        var pass = await PassAsync();

        Assert.Equal(ScanRunStatus.Completed, pass.Status);
        Assert.Contains("127.0.0.2", pass.ExcludedTargets);
        Assert.Contains("anti-scan trap suspected", pass.Notes);
        await using (var db = await app.CreateDbContextAsync())
        {
            Assert.True(await db.Findings.AnyAsync(f => f.Address == "127.0.0.1" && f.Port == newPort));
            Assert.False(await db.Findings.AnyAsync(f => f.Address == "127.0.0.2"));
            // A complete scan of the host since: the label comes off, and the passes cover it again.
            var run = new ScanRun { Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Scheduled, TargetSpec = "127.0.0.2", CreatedAt = DateTime.UtcNow, FinishedAt = DateTime.UtcNow };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            db.ScanTargetCoverage.Add(new ScanTargetCoverage { ScanRunId = run.Id, Address = "127.0.0.2", AddressKey = IpKey.From(IPAddress.Parse("127.0.0.2")), Status = TargetCoverageStatus.Complete });
            await db.SaveChangesAsync();
        }
        await app.Services.GetRequiredService<CoverageRecovery>().LiftLabelsAsync();
        var next = await PassAsync();
        Assert.Null(next.ExcludedTargets);
        await using (var db = await app.CreateDbContextAsync())
            Assert.True(await db.Findings.AnyAsync(f => f.Address == "127.0.0.2" && f.Port == newPort));
    }

    [Fact]
    public async Task PruneAsync_OldPasses_DeletesThoseThatChangedNothingAndKeepsTheRest()
    {
        var old = DateTime.UtcNow.AddDays(-3);
        long quiet, eventful, recent;
        await using (var db = await app.CreateDbContextAsync())
        {
            ScanRun Pass(DateTime at) => new() { Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Sentinel, TargetSpec = "127.0.0.1", CreatedAt = at, FinishedAt = at };
            var runs = new[] { Pass(old), Pass(old), Pass(DateTime.UtcNow) };
            db.ScanRuns.AddRange(runs);
            await db.SaveChangesAsync();
            (quiet, eventful, recent) = (runs[0].Id, runs[1].Id, runs[2].Id);
            db.ScanTargetCoverage.Add(new ScanTargetCoverage { ScanRunId = quiet, Address = "127.0.0.1", AddressKey = IpKey.From(IPAddress.Loopback), Status = TargetCoverageStatus.Partial });
            var finding = await db.Findings.FirstAsync();
            db.FindingEvents.Add(new FindingEvent { FindingId = finding.Id, ScanRunId = eventful, At = old, Kind = FindingEventKind.New });
            await db.SaveChangesAsync();
        }

        var deleted = await app.Services.GetRequiredService<SentinelPasses>().PruneAsync();

        Assert.Equal(1, deleted);
        await using (var db = await app.CreateDbContextAsync())
        {
            Assert.Equal([eventful, recent], await db.ScanRuns.Where(r => r.Trigger == ScanTrigger.Sentinel).OrderBy(r => r.Id).Select(r => r.Id).ToListAsync());
            Assert.False(await db.ScanTargetCoverage.AnyAsync(c => c.ScanRunId == quiet));
        }
    }

    private static Socket Listen(IPAddress address, int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, port));
        listener.Listen(512);
        // Service detection connects many times: take each connection so the backlog never fills.
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                    (await listener.AcceptAsync()).Dispose();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        });
        return listener;
    }

    [Fact]
    public async Task StartPassAsync_WhileAPassIsActive_StartsNoSecondOne()
    {
        var passes = app.Services.GetRequiredService<SentinelPasses>();
        var runId = await passes.StartPassAsync();

        var second = await passes.StartPassAsync();

        Assert.NotNull(runId);
        Assert.Null(second);
        await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        }, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(60));
    }

    private async Task<string> EventsAsync()
    {
        await using var db = await app.CreateDbContextAsync();
        var events = await db.FindingEvents.AsNoTracking().OrderBy(e => e.Id).Select(e => $"{e.FindingId} {e.Kind} run {e.ScanRunId}: {e.Detail}").ToListAsync();
        var runs = await db.ScanRuns.AsNoTracking().Select(r => $"run {r.Id} {r.Trigger} {r.Status} {r.Notes} {r.Error}").ToListAsync();
        return "no alert; events: " + string.Join(" | ", events) + "; runs: " + string.Join(" | ", runs);
    }

}
