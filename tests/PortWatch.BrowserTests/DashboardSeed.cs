using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Inventory;
using PortWatch.Web.Schedules;
using PortWatch.Web.Triage;

namespace PortWatch.BrowserTests;

/// <summary>
/// A dashboard with something on every page, written the way the pipeline writes it: an asset with
/// a long owner, a finished run with coverage and services (TLS, HTTP, banner), findings triaged by
/// the real services (so history, comments and audit entries are real), an exception with a long
/// scope, a schedule with a window, a ticket and an alert channel. Long values are on purpose: the
/// layout checks look for text that is cut.
/// </summary>
public static class DashboardSeed
{
    public const string Address = "198.51.100.7";
    public const string LostAddress = "198.51.100.8";

    public sealed record Seeded(long RunId, long HttpsFindingId, int ScheduleId);

    public static async Task<Seeded> SeedAsync(PortWatchAppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var now = DateTime.UtcNow;
        await services.GetRequiredService<AssetService>().UpsertAsync(
        [
            new AssetInput { Target = "198.51.100.0/28", Name = "payments-edge-loadbalancers-frankfurt", Owner = "payments-platform-team@example.com", Tags = ["prod", "pci", "edge"], Environment = "production" },
        ], "admin", "manual");

        long runId;
        await using (var db = await app.CreateDbContextAsync())
        {
            var profile = db.ScanProfiles.First(p => p.Name == "Quick");
            var run = new ScanRun
            {
                Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Manual, TargetSpec = "198.51.100.0/28", ScannedTcpPorts = "1-65535", ScannedUdpPorts = "161",
                ScanProfileId = profile.Id, RequestedBy = "admin", CreatedAt = now.AddMinutes(-20), StartedAt = now.AddMinutes(-19), FinishedAt = now.AddMinutes(-2),
                TargetCount = 16, PortCount = 65536, OpenCount = 4, ClosedCount = 1_048_000, FilteredCount = 12, PacketsSent = 1_048_576, RepliesReceived = 1_048_016,
            };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
            db.ScanTargetCoverage.Add(Coverage(runId, Address, TargetCoverageStatus.Complete, 65536, null));
            db.ScanTargetCoverage.Add(Coverage(runId, LostAddress, TargetCoverageStatus.Lost, 31_000, "stopped answering after 31,000 probes (anti-scan trap?): unseen ports are unknown, not closed"));
            db.PortObservations.AddRange(
                Observation(runId, Address, 443, TransportProtocol.Tcp, now, new ServiceInfo
                {
                    Name = "https", Product = "nginx", Version = "1.24.0", ExtraInfo = "Ubuntu", Cpes = ["cpe:/a:igor_sysoev:nginx:1.24.0", "cpe:/o:linux:linux_kernel"],
                    TlsVersion = "TLSv1.3", CertSubject = "CN=payments.example.com, O=Example Payments GmbH, L=Frankfurt am Main, C=DE",
                    CertIssuer = "CN=R11, O=Let's Encrypt, C=US", CertSubjectAltNames = ["payments.example.com", "api.payments.example.com", "checkout.payments.example.com"],
                    CertNotBefore = now.AddDays(-30), CertNotAfter = now.AddDays(60), CertKeyType = "EC", CertKeySize = 256,
                    HttpStatus = 200, HttpServer = "nginx/1.24.0 (Ubuntu)", HttpTitle = "Payments <b>console</b> – sign in", Banner = "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0 (Ubuntu)\r\n",
                }),
                Observation(runId, Address, 6379, TransportProtocol.Tcp, now, new ServiceInfo { Name = "redis", Product = "Redis key-value store", Version = "7.0.15" }),
                Observation(runId, Address, 3389, TransportProtocol.Tcp, now, new ServiceInfo { Name = "ms-wbt-server", Product = "Microsoft Terminal Services" }),
                Observation(runId, Address, 161, TransportProtocol.Udp, now, new ServiceInfo { Name = "snmp", Product = "net-snmp", Version = "5.9.3" }));
            db.AlertChannels.Add(new AlertChannel { Name = "SOC webhook (high and critical)", Kind = AlertChannelKind.Webhook, Target = "http://127.0.0.1:9/hooks/soc", CreatedAt = now });
            await db.SaveChangesAsync();
        }
        await services.GetRequiredService<RunTriageService>().ApplyRunAsync(runId, mayClose: true, now, CancellationToken.None);
        await TrendRecorder.RecordAsync(services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<PortWatchDbContext>>(), now, CancellationToken.None);

        long https, redis;
        await using (var db = await app.CreateDbContextAsync())
        {
            https = db.Findings.Single(f => f.Port == 443).Id;
            redis = db.Findings.Single(f => f.Port == 6379).Id;
        }
        var triage = services.GetRequiredService<FindingTriageService>();
        await triage.MarkExpectedAsync([https], "admin", "the public payments console", new ExpectedExceptionRequest("Public payments console behind the WAF, reviewed in CHG-2291", "ciso@example.com", now.AddDays(90), BindToService: true));
        await triage.MarkAbnormalAsync([redis], "admin", Severity.Critical, "admin", "Redis must never face the internet; asked payments-platform-team to close it");
        await triage.CommentAsync(redis, "admin", "Owner says it is a forgotten staging box.\nFirewall change requested.");
        await services.GetRequiredService<ExceptionRuleService>().CreateAsync(new ExceptionRuleInput
        {
            ScopeKind = ExceptionScopeKind.Cidr, ScopeValue = "198.51.100.0/28", PortFrom = 8000, PortTo = 8999, Protocol = TransportProtocol.Tcp,
            Reason = "Blue/green deployment ports of the payments edge load balancers, open during releases only", Approver = "head-of-platform@example.com",
            ExpiresAt = now.AddDays(10),
        }, "admin");
        var quick = await ProfileIdAsync(app);
        var schedule = await services.GetRequiredService<ScheduleService>().SaveScheduleAsync(new Schedule
        {
            Name = "Nightly full scan of the payments edge", CronExpression = "0 0 2 ? * MON-FRI", TimeZoneId = "Europe/Berlin", ScanProfileId = quick,
            WindowStart = new TimeOnly(1, 0), WindowEnd = new TimeOnly(5, 0),
        }, "admin");
        await using (var db = await app.CreateDbContextAsync())
        {
            db.FindingTickets.Add(new FindingTicket { FindingId = redis, System = "jira", Key = "SEC-101", Url = "https://jira.example.test/browse/SEC-101", CreatedBy = "admin", CreatedAt = now });
            // A sentinel pass (the Scans page's Sentinel card) and a host label from coverage recovery (the host page's banner).
            db.ScanRuns.Add(new ScanRun
            {
                Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Sentinel, TargetSpec = "198.51.100.0/28", ScannedTcpPorts = "21-23,135,139,445,3389,6379", ScannedUdpPorts = "161",
                // Slower than the 5-minute interval, so the card's warning is on the page too.
                RequestedBy = "sentinel", CreatedAt = now.AddMinutes(-12), StartedAt = now.AddMinutes(-12), FinishedAt = now.AddMinutes(-5), TargetCount = 16, PortCount = 9, OpenCount = 2,
            });
            db.HostLabels.Add(new HostLabel
            {
                Address = Address, AddressKey = IpKey.From(IPAddress.Parse(Address)), Kind = HostLabelKind.AntiScanTrapSuspected, FirstSetAt = now.AddHours(-1), UpdatedAt = now.AddHours(-1),
                Evidence = "answered 2 probe(s) in run #1, then went silent; answered again after 31 s of polling; blocked 1 more time(s) while re-verifying; 2 of 4 known-open port(s) confirmed open (80, 443); 2 no longer reachable, filtered (22, 6379)",
                LostRunId = runId, RecoveryRunId = runId,
            });
            await db.SaveChangesAsync();
        }
        return new Seeded(runId, https, schedule.Id);
    }

    private static async Task<int> ProfileIdAsync(PortWatchAppFactory app)
    {
        await using var db = await app.CreateDbContextAsync();
        return db.ScanProfiles.First(p => p.Name == "Quick").Id;
    }

    private static ScanTargetCoverage Coverage(long runId, string address, TargetCoverageStatus status, int answered, string? note) => new()
    {
        ScanRunId = runId, Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), PortsPlanned = 65536, PortsAnswered = answered, Status = status, Note = note,
    };

    private static PortObservation Observation(long runId, string address, int port, TransportProtocol protocol, DateTime now, ServiceInfo service) => new()
    {
        ScanRunId = runId, Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), Port = port, Protocol = protocol,
        State = PortState.Open, Reason = protocol == TransportProtocol.Udp ? "udp-response" : "syn-ack", Ttl = 52, ObservedAt = now, Service = service,
    };
}
