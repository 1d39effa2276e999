using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;
using PortWatch.Web.Tests.Data;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Tests.Triage;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTime start) : TimeProvider
{
    public DateTime UtcNow { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => new(UtcNow, TimeSpan.Zero);
}

/// <summary>
/// Triage on a real migrated SQLite database: runs are written the way the pipeline writes them
/// (run row with its probed ports, coverage per target, open observations with services) and
/// then triaged by the real services.
/// </summary>
public sealed class TriageHarness : IAsyncDisposable, IDbContextFactory<PortWatchDbContext>
{
    private TriageHarness(SqliteDatabase database, TriageOptions triage, ScanningOptions scanning)
    {
        Database = database;
        Clock = new ManualClock(new DateTime(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc));
        Scanner = new ScannerAddresses(Options.Create(scanning), NullLogger<ScannerAddresses>.Instance);
        Triage = new RunTriageService(this, Options.Create(triage), Scanner);
        Notifier = new AssignmentNotifier(this, Options.Create(Smtp), Options.Create(new AlertOptions()), NullLogger<AssignmentNotifier>.Instance);
        Findings = new FindingTriageService(this, Clock, Notifier);
        Exceptions = new ExceptionRuleService(this, Clock);
        Catalogue = new RiskCatalogueService(this, Clock);
    }

    public SqliteDatabase Database { get; }

    public ManualClock Clock { get; }

    public ScannerAddresses Scanner { get; }

    public RunTriageService Triage { get; }

    public FindingTriageService Findings { get; }

    /// <summary>The mail server assignment mails go to; empty Host: none.</summary>
    public SmtpOptions Smtp { get; } = new();

    public AssignmentNotifier Notifier { get; }

    public ExceptionRuleService Exceptions { get; }

    public RiskCatalogueService Catalogue { get; }

    public static async Task<TriageHarness> CreateAsync(int anomalyThreshold = 100, ScanningOptions? scanning = null)
    {
        var database = await SqliteDatabase.CreateMigratedAsync();
        await using (var db = database.CreateContext())
        {
            db.RiskRules.AddRange(DefaultRiskCatalogue.Create());
            await db.SaveChangesAsync();
        }
        return new TriageHarness(database, new TriageOptions { HostAnomalyOpenPortThreshold = anomalyThreshold }, scanning ?? new ScanningOptions());
    }

    public PortWatchDbContext CreateDbContext() => Database.CreateContext();

    /// <summary>An open port as the run saw it; service null when detection did not run.</summary>
    public sealed record Open(string Address, int Port, string? Service = null, string? Product = null, string? Version = null, TransportProtocol Protocol = TransportProtocol.Tcp);

    /// <summary>Writes a finished run (coverage per target, open ports) and triages it; an hour passes per run.</summary>
    public async Task<long> RunAsync(IEnumerable<Open> open, IDictionary<string, TargetCoverageStatus> coverage, string tcpPorts = "1-65535", bool mayClose = true)
    {
        Clock.UtcNow = Clock.UtcNow.AddHours(1);
        long runId;
        await using (var db = CreateDbContext())
        {
            var run = new ScanRun
            {
                Status = ScanRunStatus.Completed, TargetSpec = string.Join(',', coverage.Keys), ScannedTcpPorts = tcpPorts,
                CreatedAt = Clock.UtcNow, StartedAt = Clock.UtcNow, FinishedAt = Clock.UtcNow,
            };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
            foreach (var (address, status) in coverage)
            {
                db.ScanTargetCoverage.Add(new ScanTargetCoverage
                {
                    ScanRunId = runId, Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), PortsPlanned = 65535, PortsAnswered = 100, Status = status,
                });
            }
            foreach (var o in open)
            {
                db.PortObservations.Add(new PortObservation
                {
                    ScanRunId = runId, Address = o.Address, AddressKey = IpKey.From(IPAddress.Parse(o.Address)), Port = o.Port, Protocol = o.Protocol,
                    State = PortState.Open, Reason = "syn-ack", ObservedAt = Clock.UtcNow,
                    Service = o.Service is null && o.Product is null ? null : new ServiceInfo { Name = o.Service, Product = o.Product, Version = o.Version },
                });
            }
            await db.SaveChangesAsync();
        }
        await Triage.ApplyRunAsync(runId, mayClose, Clock.UtcNow, CancellationToken.None);
        return runId;
    }

    public Task<long> RunAsync(string address, TargetCoverageStatus status, params Open[] open) =>
        RunAsync(open, new Dictionary<string, TargetCoverageStatus> { [address] = status });

    public async Task<Finding> FindingAsync(string address, int port, TransportProtocol protocol = TransportProtocol.Tcp)
    {
        await using var db = CreateDbContext();
        var key = IpKey.From(IPAddress.Parse(address));
        return await db.Findings.AsNoTracking().SingleAsync(f => f.AddressKey == key && f.Port == port && f.Protocol == protocol);
    }

    public async Task<List<FindingEvent>> ChangesAsync(long runId)
    {
        await using var db = CreateDbContext();
        return await db.FindingEvents.AsNoTracking().Include(e => e.Finding).Where(e => e.ScanRunId == runId).OrderBy(e => e.Id).ToListAsync();
    }

    /// <summary>A user findings can be assigned to (with an e-mail address when given).</summary>
    public async Task AddUserAsync(string userName, string? email = null)
    {
        await using var db = CreateDbContext();
        db.Users.Add(new Identity.PortWatchUser { UserName = userName, NormalizedUserName = userName.ToUpperInvariant(), Email = email, CreatedAt = Clock.UtcNow });
        await db.SaveChangesAsync();
    }

    public async Task<List<FindingEvent>> HistoryAsync(long findingId)
    {
        await using var db = CreateDbContext();
        return await db.FindingEvents.AsNoTracking().Where(e => e.FindingId == findingId).OrderBy(e => e.Id).ToListAsync();
    }

    public ValueTask DisposeAsync() => Database.DisposeAsync();
}
