using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Tests.Data;

public class DataModelTests
{
    private static readonly DateTime Now = new(2026, 11, 22, 3, 0, 0, DateTimeKind.Utc);

    internal static Asset NewAsset(string name, string target)
    {
        var asset = new Asset { Name = name, Target = "", RangeStart = "", RangeEnd = "", CreatedAt = Now, UpdatedAt = Now };
        asset.SetRange(IpRange.Parse(target));
        return asset;
    }

    internal static Finding NewFinding(string address, int port) => new()
    {
        Address = address,
        AddressKey = IpKey.From(IPAddress.Parse(address)),
        Port = port,
        FirstSeenAt = Now,
        LastSeenAt = Now,
        UpdatedAt = Now,
        CurrentState = PortState.Open,
    };

    [Fact]
    public async Task Migrate_EmptyFile_CreatesEveryTable()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        await using var db = database.CreateContext();

        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(0, await db.Assets.CountAsync());
        Assert.Equal(0, await db.Users.CountAsync());
    }

    [Fact]
    public void Migrations_EachProvider_MatchTheModel()
    {
        using var sqlite = new SqliteDesignTimeFactory().CreateDbContext([]);
        using var postgres = new PostgresDesignTimeFactory().CreateDbContext([]);

        Assert.False(sqlite.Database.HasPendingModelChanges(), "the SQLite migrations lag the model: run scripts/add-migration.sh");
        Assert.False(postgres.Database.HasPendingModelChanges(), "the PostgreSQL migrations lag the model: run scripts/add-migration.sh");
    }

    [Fact]
    public async Task SaveAndLoad_EveryEntity_RoundTrips()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        await EveryEntityRoundTripsAsync(database.CreateContext);
    }

    internal static async Task EveryEntityRoundTripsAsync(Func<PortWatchDbContext> createContext)
    {
        long runId;
        await using (var db = createContext())
        {
            var asset = NewAsset("web", "203.0.113.0/28");
            asset.Tags = ["prod", "dmz"];
            var profile = new ScanProfile { Name = "Full", CreatedAt = Now, UpdatedAt = Now };
            var schedule = new Schedule { Name = "nightly", CronExpression = "0 0 2 ? * *", ScanProfile = profile, AssetIds = [1, 2], WindowStart = new TimeOnly(1, 0), WindowEnd = new TimeOnly(5, 0), CreatedAt = Now, UpdatedAt = Now };
            var run = new ScanRun { ScanProfile = profile, Schedule = schedule, TargetSpec = "203.0.113.0/28", Status = ScanRunStatus.Completed, CreatedAt = Now, PermutationSeed = 42, CheckpointPosition = 1000 };
            run.Coverage.Add(new ScanTargetCoverage { Address = "203.0.113.7", AddressKey = IpKey.From(IPAddress.Parse("203.0.113.7")), PortsPlanned = 65535, PortsAnswered = 65535, Status = TargetCoverageStatus.Complete });
            var observation = new PortObservation
            {
                ScanRun = run, Address = "203.0.113.7", AddressKey = IpKey.From(IPAddress.Parse("203.0.113.7")), Port = 6379,
                State = PortState.Open, Reason = "syn-ack", Ttl = 63, ObservedAt = Now,
                Service = new ServiceInfo { Name = "redis", Product = "Redis key-value store", Version = "7.0.15", Cpes = ["cpe:/a:redislabs:redis:7.0.15"], Banner = "-ERR <script>alert(1)</script>\r\n", CertSubjectAltNames = ["a.example", "b.example"] },
            };
            var rule = new ExceptionRule { ScopeKind = ExceptionScopeKind.Cidr, ScopeValue = "203.0.113.0/28", PortFrom = 443, PortTo = 443, Protocol = TransportProtocol.Tcp, Reason = "public web", CreatedAt = Now, ExpiresAt = Now.AddDays(90) };
            var finding = NewFinding("203.0.113.7", 6379);
            finding.Asset = asset;
            finding.Status = TriageStatus.Abnormal;
            finding.Severity = Severity.Critical;
            db.AddRange(asset, profile, schedule, run, observation, rule, finding,
                new RiskRule { Port = 6379, Protocol = TransportProtocol.Tcp, Name = "Redis", Severity = Severity.Critical },
                new AlertChannel { Name = "soc", Kind = AlertChannelKind.Slack, Target = "http://127.0.0.1/hook", CreatedAt = Now },
                new AuditEntry { At = Now, User = "admin", Action = "asset.create", EntityType = nameof(Asset), EntityId = "1", After = "{}" });
            await db.SaveChangesAsync();
            runId = run.Id;
        }

        await using (var db = createContext())
        {
            var asset = await db.Assets.SingleAsync();
            Assert.Equal(["prod", "dmz"], asset.Tags);
            Assert.Equal(IpFamily.IPv4, asset.Family);
            var schedule = await db.Schedules.Include(s => s.ScanProfile).SingleAsync();
            Assert.Equal("Full", schedule.ScanProfile!.Name);
            Assert.Equal(new TimeOnly(5, 0), schedule.WindowEnd);
            Assert.Equal([1, 2], schedule.AssetIds);
            var run = await db.ScanRuns.Include(r => r.Coverage).SingleAsync(r => r.Id == runId);
            Assert.Equal(TargetCoverageStatus.Complete, Assert.Single(run.Coverage).Status);
            Assert.Equal(DateTimeKind.Utc, run.CreatedAt.Kind);
            var observation = await db.PortObservations.Include(o => o.Service).SingleAsync();
            Assert.Equal("-ERR <script>alert(1)</script>\r\n", observation.Service!.Banner);
            Assert.Equal(["a.example", "b.example"], observation.Service.CertSubjectAltNames);
            var finding = await db.Findings.Include(f => f.Asset).SingleAsync();
            Assert.Equal("web", finding.Asset!.Name);
            Assert.Equal(Severity.Critical, finding.Severity);
            Assert.Equal(Now.AddDays(90), (await db.ExceptionRules.SingleAsync()).ExpiresAt);
            Assert.Equal(Severity.Critical, (await db.RiskRules.SingleAsync()).Severity);
            Assert.Equal(AlertChannelKind.Slack, (await db.AlertChannels.SingleAsync()).Kind);
            Assert.Equal("asset.create", (await db.AuditEntries.SingleAsync()).Action);
        }
    }

    [Fact]
    public async Task SaveFinding_SameAddressPortProtocolTwice_IsRefused()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        await using var db = database.CreateContext();
        db.Findings.AddRange(NewFinding("198.51.100.1", 22), NewFinding("198.51.100.1", 22));

        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
    }

    [Fact]
    public async Task Containing_AddressInsideBlocks_FindsEveryAssetThatCoversIt()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        await RangeQueriesWorkAsync(database.CreateContext);
    }

    internal static async Task RangeQueriesWorkAsync(Func<PortWatchDbContext> createContext)
    {
        await using var db = createContext();
        db.Assets.AddRange(
            NewAsset("block", "203.0.113.0/24"),
            NewAsset("single", "203.0.113.77"),
            NewAsset("neighbour", "203.0.114.0/24"),
            NewAsset("v6", "2001:db8::/32"),
            NewAsset("everything-v4", "0.0.0.0/0"));
        await db.SaveChangesAsync();

        var hits = await db.Assets.Containing(IPAddress.Parse("203.0.113.77")).Select(a => a.Name).OrderBy(n => n).ToListAsync();
        var v6Hits = await db.Assets.Containing(IPAddress.Parse("2001:db8:1::5")).Select(a => a.Name).ToListAsync();
        var overlapping = await db.Assets.Overlapping(IpRange.Parse("203.0.113.250-203.0.114.3")).Select(a => a.Name).OrderBy(n => n).ToListAsync();

        Assert.Equal(["block", "everything-v4", "single"], hits);
        Assert.Equal(["v6"], v6Hits);
        Assert.Equal(["block", "everything-v4", "neighbour"], overlapping);
    }

    [Fact]
    public async Task Within_Cidr_ReturnsOnlyFindingsInsideIt()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        await using var db = database.CreateContext();
        db.Findings.AddRange(
            NewFinding("10.1.2.0", 80), NewFinding("10.1.2.255", 80), NewFinding("10.1.3.0", 80),
            NewFinding("10.1.1.255", 80), NewFinding("2001:db8::1", 80), NewFinding("9.255.255.255", 80));
        await db.SaveChangesAsync();

        var inside = await db.Findings.Within(IpRange.Parse("10.1.2.0/24")).Select(f => f.Address).OrderBy(a => a).ToListAsync();

        Assert.Equal(["10.1.2.0", "10.1.2.255"], inside);
    }
}
