using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;
using PortWatch.Web.Data.Entities;
using static PortWatch.Web.Tests.Triage.TriageHarness;

namespace PortWatch.Web.Tests.Triage;

/// <summary>Findings across runs and each run's change list, on a real SQLite database.</summary>
public sealed class RunTriageTests : IAsyncLifetime
{
    private const string Host = "203.0.113.10";
    private const string Other = "203.0.113.11";
    private TriageHarness harness = null!;

    public async Task InitializeAsync() => harness = await TriageHarness.CreateAsync(anomalyThreshold: 20);

    public async Task DisposeAsync() => await harness.DisposeAsync();

    [Fact]
    public async Task ApplyRun_NewClosedAndChangedServices_ChangeListNamesEach()
    {
        var baseline = await harness.RunAsync(Host, TargetCoverageStatus.Complete,
            new Open(Host, 22, "ssh", "OpenSSH", "8.9"), new Open(Host, 80, "http", "nginx", "1.24"));
        var second = await harness.RunAsync(Host, TargetCoverageStatus.Complete,
            new Open(Host, 22, "ssh", "OpenSSH", "8.9"), new Open(Host, 80, "http", "Apache httpd", "2.4"), new Open(Host, 443, "https", "nginx"));
        var third = await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 22, "ssh", "OpenSSH", "8.9"));

        var first = await harness.ChangesAsync(baseline);
        Assert.Equal([FindingEventKind.New, FindingEventKind.New], first.Select(e => e.Kind));
        Assert.All(first, e => Assert.StartsWith("baseline", e.Detail));

        var changes = await harness.ChangesAsync(second);
        Assert.Contains(changes, e => e.Kind == FindingEventKind.New && e.Finding!.Port == 443);
        var changed = Assert.Single(changes, e => e.Kind == FindingEventKind.ServiceChanged);
        Assert.Equal(80, changed.Finding!.Port);
        Assert.Equal("was http nginx 1.24", changed.Detail);
        Assert.DoesNotContain(changes, e => e.Finding!.Port == 22); // unchanged: not in the change list
        Assert.True((await harness.FindingAsync(Host, 80)).Flags.HasFlag(FindingFlags.ServiceChanged));

        var closing = await harness.ChangesAsync(third);
        Assert.Equal([80, 443], closing.Where(e => e.Kind == FindingEventKind.Closed).Select(e => e.Finding!.Port).Order());
        Assert.Equal(PortState.Closed, (await harness.FindingAsync(Host, 80)).CurrentState);
        Assert.Equal(PortState.Open, (await harness.FindingAsync(Host, 22)).CurrentState);
    }

    [Fact]
    public async Task ApplyRun_CoverageLostPartWay_PreviousFindingsKeepTheirState()
    {
        await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 22, "ssh"), new Open(Host, 3306, "mysql"));

        // The host's anti-scan trap blocked the scanner after a few probes: only 22 was seen.
        var lost = await harness.RunAsync(Host, TargetCoverageStatus.Lost, new Open(Host, 22, "ssh"));

        var mysql = await harness.FindingAsync(Host, 3306);
        Assert.Equal(PortState.Open, mysql.CurrentState);
        var changes = await harness.ChangesAsync(lost);
        Assert.DoesNotContain(changes, e => e.Kind == FindingEventKind.Closed);
        Assert.Contains(changes, e => e.Kind == FindingEventKind.CoverageLost && e.Finding!.Port == 3306 && e.Detail!.Contains("stopped answering"));
        await using var db = harness.CreateDbContext();
        Assert.Contains("coverage lost on 1 target", (await db.ScanRuns.SingleAsync(r => r.Id == lost)).Notes);
    }

    [Fact]
    public async Task ApplyRun_CancelledRun_ClosesNothing()
    {
        await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 22), new Open(Host, 25));

        await harness.RunAsync([new Open(Host, 22)], new Dictionary<string, TargetCoverageStatus> { [Host] = TargetCoverageStatus.Complete }, mayClose: false);

        Assert.Equal(PortState.Open, (await harness.FindingAsync(Host, 25)).CurrentState);
    }

    [Fact]
    public async Task ApplyRun_PortOutsideTheRunsPortSet_IsNotClosed()
    {
        await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 22), new Open(Host, 8443));

        // A quick run over the top ports only: 8443 was never probed, so its absence says nothing.
        await harness.RunAsync([new Open(Host, 22)], new Dictionary<string, TargetCoverageStatus> { [Host] = TargetCoverageStatus.Complete }, tcpPorts: "1-1024");

        Assert.Equal(PortState.Open, (await harness.FindingAsync(Host, 8443)).CurrentState);
    }

    [Fact]
    public async Task ApplyRun_ResolvedPortReopens_UnreviewedWithHistoryIntact()
    {
        await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 23, "telnet"));
        var telnet = await harness.FindingAsync(Host, 23);
        await harness.Findings.ResolveAsync([telnet.Id], "alice", "closed by the network team");
        await harness.RunAsync(Host, TargetCoverageStatus.Complete);
        Assert.Equal(PortState.Closed, (await harness.FindingAsync(Host, 23)).CurrentState);

        var back = await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 23, "telnet"));

        var reopened = await harness.FindingAsync(Host, 23);
        Assert.Equal(telnet.Id, reopened.Id);
        Assert.Equal(TriageStatus.Unreviewed, reopened.Status);
        Assert.Equal(PortState.Open, reopened.CurrentState);
        Assert.Equal(telnet.FirstSeenAt, reopened.FirstSeenAt);
        var history = await harness.HistoryAsync(telnet.Id);
        Assert.Equal([FindingEventKind.New, FindingEventKind.TriageChanged, FindingEventKind.Commented, FindingEventKind.Closed, FindingEventKind.Reopened], history.Select(e => e.Kind));
        Assert.Equal(back, history[^1].ScanRunId);
        Assert.Equal("was resolved", history[^1].Detail);
    }

    [Fact]
    public async Task ApplyRun_FirstRunOfAHost_IsBaselinedAndLaterNewPortsAreNot()
    {
        await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 22));
        await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 22), new Open(Host, 6379, "redis"));

        Assert.NotNull((await harness.FindingAsync(Host, 22)).AlertFingerprint); // known from the baseline
        Assert.Null((await harness.FindingAsync(Host, 6379)).AlertFingerprint); // news, for the alerts
    }

    [Fact]
    public async Task ApplyRun_CatalogueSeverity_FindingsTakeIt()
    {
        await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 6379, "redis"), new Open(Host, 3389), new Open(Host, 8080),
            new Open(Host, 161, Protocol: TransportProtocol.Udp));

        Assert.Equal(Severity.Critical, (await harness.FindingAsync(Host, 6379)).Severity);
        Assert.Equal(Severity.High, (await harness.FindingAsync(Host, 3389)).Severity);
        Assert.Equal(Severity.Info, (await harness.FindingAsync(Host, 8080)).Severity);
        Assert.Equal(Severity.High, (await harness.FindingAsync(Host, 161, TransportProtocol.Udp)).Severity);
    }

    [Fact]
    public async Task CatalogueEdit_ExistingFindings_TakeTheNewSeverityButManualOverrideWins()
    {
        await harness.RunAsync([new Open(Host, 8080), new Open(Other, 8080)],
            new Dictionary<string, TargetCoverageStatus> { [Host] = TargetCoverageStatus.Complete, [Other] = TargetCoverageStatus.Complete });
        var other = await harness.FindingAsync(Other, 8080);
        await harness.AddUserAsync("bob");
        await harness.Findings.MarkAbnormalAsync([other.Id], "alice", Severity.Low, "bob", "test page, low risk");

        await harness.Catalogue.SaveAsync(new RiskRule { Port = 8080, Protocol = TransportProtocol.Tcp, Name = "Tomcat manager", Severity = Severity.High }, "admin");

        Assert.Equal(Severity.High, (await harness.FindingAsync(Host, 8080)).Severity);
        var overridden = await harness.FindingAsync(Other, 8080);
        Assert.Equal(Severity.Low, overridden.Severity);
        Assert.Equal(TriageStatus.Abnormal, overridden.Status);
        Assert.Equal("bob", overridden.Assignee);
    }

    [Fact]
    public async Task ApplyRun_HostOverAnomalyThreshold_BecomesOneHostLevelFinding()
    {
        var tarpit = Enumerable.Range(1000, 300).Select(p => new Open(Host, p)).ToList();
        var normal = new[] { new Open(Other, 22), new Open(Other, 443) };

        var run = await harness.RunAsync(tarpit.Concat(normal),
            new Dictionary<string, TargetCoverageStatus> { [Host] = TargetCoverageStatus.Complete, [Other] = TargetCoverageStatus.Complete });

        await using var db = harness.CreateDbContext();
        var onTarpit = await db.Findings.Where(f => f.Address == Host).ToListAsync();
        var single = Assert.Single(onTarpit);
        Assert.Equal(FindingKind.HostAnomaly, single.Kind);
        Assert.Equal(Severity.Medium, single.Severity);
        Assert.Equal(2, await db.Findings.CountAsync(f => f.Address == Other && f.Kind == FindingKind.Port));
        var change = Assert.Single(await harness.ChangesAsync(run), e => e.FindingId == single.Id);
        Assert.Contains("300 open ports", change.Detail);
        Assert.Contains("one host-level finding", (await db.ScanRuns.SingleAsync(r => r.Id == run)).Notes);
    }

    /// <summary>
    /// A sentinel pass (or a short port list) probes 20 ports: a SYN proxy answering all of them never reaches the 100-port
    /// threshold, and was 20 findings (critical ones among them) a pass. Three quarters open is the same sign.
    /// </summary>
    [Fact]
    public async Task ApplyRun_SynProxyAnsweringEveryPortOfAShortList_BecomesOneHostLevelFinding()
    {
        int[] catalogue = [21, 22, 23, 25, 110, 135, 139, 445, 1433, 2375, 3306, 3389, 5432, 5900, 6379, 8080, 9200, 11211, 27017, 50000];
        var proxy = catalogue.Select(p => new Open(Host, p)).ToList();
        var server = new[] { new Open(Other, 22), new Open(Other, 3306), new Open(Other, 6379) };

        var run = await harness.RunAsync(proxy.Concat(server),
            new Dictionary<string, TargetCoverageStatus> { [Host] = TargetCoverageStatus.Partial, [Other] = TargetCoverageStatus.Partial },
            tcpPorts: string.Join(',', catalogue));

        await using var db = harness.CreateDbContext();
        var onProxy = Assert.Single(await db.Findings.Where(f => f.Address == Host).ToListAsync());
        Assert.Equal(FindingKind.HostAnomaly, onProxy.Kind);
        Assert.Contains("20 of the 20 TCP ports probed open", Assert.Single(await harness.ChangesAsync(run), e => e.FindingId == onProxy.Id).Detail);
        Assert.Equal(3, await db.Findings.CountAsync(f => f.Address == Other && f.Kind == FindingKind.Port));
        Assert.Equal([Host], await harness.Triage.AnomalousAddressesAsync(run, CancellationToken.None));
    }

    [Fact]
    public async Task ApplyRun_ScannerOwnAddressIncluded_FindingsAreFlagged()
    {
        await using var flagged = await TriageHarness.CreateAsync(scanning: new ScanningOptions { ScannerAddresses = [Host] });

        await flagged.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, 22));

        Assert.True((await flagged.FindingAsync(Host, 22)).Flags.HasFlag(FindingFlags.ScannerAddress));
    }

    [Fact]
    public void ScannerAddresses_ConfiguredAddressInsideTargets_IsLeftOut()
    {
        var scanner = new ScannerAddresses(Options.Create(new ScanningOptions { ScannerAddresses = ["203.0.113.5"] }),
            NullLogger<ScannerAddresses>.Instance);
        var targets = TargetSet.Create(["203.0.113.0/29"]);

        var own = scanner.Within(targets);

        Assert.Equal(["203.0.113.5"], own);
        Assert.Equal(7UL, TargetSet.Create(["203.0.113.0/29"], own).Count);
        Assert.Contains("127.0.0.1", scanner.Within(TargetSet.Create(["127.0.0.1"]))); // loopback is always its own
    }
}
