using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Sentinel;
using PortWatch.Web.Tests.Testbed;

namespace PortWatch.Web.Tests.Sentinel;

/// <summary>
/// Coverage recovery against the ipset trap anti-scan guides publish, in a namespace this test
/// makes: every SYN to a port other than 80 and 443 is dropped, and a source that sends more than 3
/// of them within 10 s is blocked (every packet dropped) for 30 s. The host was scanned completely
/// before the trap went up (22, 80, 443 and 6379 open), and the next scan tripped it and lost the host.
/// </summary>
public sealed class CoverageRecoveryTests : IAsyncLifetime
{
    private static readonly int[] Listening = [22, 80, 443, 6379];
    private RoutedNamespace host = null!;
    private PortWatchAppFactory app = null!;
    private readonly bool skip = !RoutedNamespace.CanRun(out _) || !File.Exists("/usr/sbin/ipset");

    public async Task InitializeAsync()
    {
        if (skip)
            return;
        host = new RoutedNamespace("tr");
        foreach (var port in Listening)
            host.Listen(port);
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Sentinel:RecoveryPollSeconds"] = "2",
            ["Sentinel:RecoverySpacingMs"] = "200",
            ["Sentinel:RecoveryTimeoutMs"] = "500",
            ["Sentinel:RecoveryWaitMinutes"] = "3",
        });
        await using var db = await app.CreateDbContextAsync();
        db.Assets.Add(TestAssets.For(host.Address.ToString(), "trapped web server"));
        db.ScanProfiles.Add(new ScanProfile { Name = "baseline", TcpPorts = "20-25,80,443,6379", Engine = ScanEngineKind.Connect, Retries = 1, TimeoutMs = 500, ServiceDetection = false });
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync()
    {
        if (skip)
            return;
        await app.DisposeAsync();
        host.Dispose();
    }

    private async Task<ScanRun> BaselineAsync()
    {
        int profileId;
        await using (var db = await app.CreateDbContextAsync())
            profileId = await db.ScanProfiles.Where(p => p.Name == "baseline").Select(p => p.Id).SingleAsync();
        var runId = await app.Services.GetRequiredService<ScanQueue>().QueueAsync(new ScanRequest { Targets = host.Address.ToString(), ProfileId = profileId, RequestedBy = "test" });
        return await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
        }, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(60));
    }

    private void SetTrap() => host.Exec(string.Join(" && ",
        "ipset create pwtrap hash:ip timeout 30",
        "iptables -A INPUT -m set --match-set pwtrap src -j DROP",
        "iptables -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT",
        "iptables -A INPUT -p tcp --syn -m recent --name pwscan --set",
        "iptables -A INPUT -p tcp --syn -m recent --name pwscan --rcheck --seconds 10 --hitcount 4 -j SET --add-set pwtrap src",
        "iptables -A INPUT -p tcp --syn -j DROP"));

    /// <summary>What a scan that hit the trap leaves: the host's coverage Lost, its findings kept.</summary>
    private async Task<long> RecordLostScanAsync()
    {
        await using var db = await app.CreateDbContextAsync();
        var now = DateTime.UtcNow;
        var run = new ScanRun { Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Scheduled, TargetSpec = host.Address.ToString(), CreatedAt = now, StartedAt = now, FinishedAt = now, ScannedTcpPorts = "1-65535" };
        db.ScanRuns.Add(run);
        await db.SaveChangesAsync();
        db.ScanTargetCoverage.Add(new ScanTargetCoverage
        {
            ScanRunId = run.Id, Address = host.Address.ToString(), AddressKey = IpKey.From(host.Address), PortsPlanned = 65535, PortsAnswered = 2, Status = TargetCoverageStatus.Lost,
            Note = "answered 2 probes, then nothing from 0.4 s on while probing went on: blocked or down part-way, what was not seen is unknown",
        });
        await db.SaveChangesAsync();
        return run.Id;
    }

    [RoutedNamespaceFact(Needs = ["/usr/sbin/ipset"])]
    public async Task RecoverAllAsync_HostBehindAnIpsetTrap_ConfirmsPublicPortsReportsDroppedOnesUnreachableAndLabelsTheHost()
    {
        var baseline = await BaselineAsync();
        Assert.Equal((ScanRunStatus.Completed, 4), (baseline.Status, baseline.OpenCount));
        SetTrap();
        // The next scan's probes trip it: more than 3 SYNs to ports the trap watches.
        foreach (var port in new[] { 1000, 1001, 1002, 1003 })
            await SinglePortCheck.TcpAsync(host.Address, port, TimeSpan.FromMilliseconds(200), 0, CancellationToken.None);
        var lostRun = await RecordLostScanAsync();
        var recovery = app.Services.GetRequiredService<CoverageRecovery>();

        var lost = Assert.Single(await recovery.FindLostHostsAsync());
        var outcome = Assert.Single(await recovery.RecoverAllAsync());

        Assert.Equal((host.Address.ToString(), lostRun), (lost.Address, lost.LostRunId));
        Assert.True(outcome.Answered, outcome.Evidence);
        Assert.Equal([80, 443], outcome.Confirmed.Order());
        Assert.Equal([22, 6379], outcome.Unreachable.Order());
        Assert.Empty(outcome.ClosedNow);
        Assert.Contains("answered again after", outcome.Evidence); // it was blocked when recovery began, and recovery waited it out
        await using var db = await app.CreateDbContextAsync();
        var findings = await db.Findings.AsNoTracking().Where(f => f.AddressKey == lost.AddressKey).ToDictionaryAsync(f => f.Port);
        Assert.Equal(PortState.Open, findings[80].CurrentState);
        Assert.Equal(PortState.Open, findings[443].CurrentState);
        Assert.Equal(PortState.Filtered, findings[22].CurrentState);
        Assert.Equal(PortState.Filtered, findings[6379].CurrentState);
        Assert.False(await db.FindingEvents.AnyAsync(e => e.Kind == FindingEventKind.Closed), "nothing is called closed");
        Assert.Equal(2, await db.FindingEvents.CountAsync(e => e.Kind == FindingEventKind.Unreachable && e.ScanRunId == outcome.RunId));
        var label = await db.HostLabels.AsNoTracking().SingleAsync(l => l.AddressKey == lost.AddressKey);
        Assert.Equal(HostLabelKind.AntiScanTrapSuspected, label.Kind);
        Assert.Contains("answered 2 probe(s)", label.Evidence);
        Assert.Contains("no longer reachable", label.Evidence);
        // Recovered: not tried again until another scan loses the host.
        Assert.Empty(await recovery.FindLostHostsAsync());
    }
}
