using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Tests.Data;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Tests.Triage;

/// <summary>The findings filters behave the same on SQLite and PostgreSQL.</summary>
public class FindingQueryTests
{
    private static readonly DateTime Now = new(2026, 11, 20, 12, 0, 0, DateTimeKind.Utc);

    internal static async Task FiltersAgreeAsync(Func<PortWatchDbContext> contexts)
    {
        await using (var db = contexts())
        {
            Finding F(string address, int port, string? product, Severity severity, TriageStatus status, PortState state, int ageDays, FindingFlags flags = FindingFlags.None) => new()
            {
                Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), Port = port, ServiceName = "http", Product = product, Severity = severity,
                Status = status, CurrentState = state, FirstSeenAt = Now.AddDays(-ageDays), LastSeenAt = Now, Flags = flags,
            };
            var asset = new Asset { Name = "web", Target = "", RangeStart = "", RangeEnd = "", Owner = "Alice Example", Tags = ["prod", "dmz"], CreatedAt = Now, UpdatedAt = Now };
            asset.SetRange(PortWatch.Scanning.Targets.IpRange.Parse("203.0.113.1"));
            db.Assets.Add(asset);
            await db.SaveChangesAsync();
            var owned = F("203.0.113.1", 443, "Nginx", Severity.Info, TriageStatus.Expected, PortState.Open, 100);
            owned.AssetId = asset.Id;
            db.Findings.AddRange(
                owned,
                F("203.0.113.2", 3389, null, Severity.High, TriageStatus.Unreviewed, PortState.Open, 2),
                F("203.0.113.3", 6379, "Redis 100%_sure", Severity.Critical, TriageStatus.Abnormal, PortState.Closed, 50),
                F("198.51.100.4", 8080, "Apache", Severity.Low, TriageStatus.Unreviewed, PortState.Open, 1, FindingFlags.ServiceChanged));
            await db.SaveChangesAsync();
        }
        async Task<List<int>> Ports(FindingQuery query)
        {
            await using var db = contexts();
            return await query.Apply(db.Findings, Now).OrderBy(f => f.Port).Select(f => f.Port).ToListAsync();
        }

        Assert.Equal([443], await Ports(new FindingQuery { Search = "nginx" })); // case does not matter
        Assert.Equal([6379], await Ports(new FindingQuery { Search = "100%_" })); // % and _ are literal
        Assert.Equal([443, 3389, 6379], await Ports(new FindingQuery { Search = "203.0.113.0/24" }));
        Assert.Equal([3389], await Ports(new FindingQuery { Search = "3389" }));
        Assert.Equal([3389, 8080], await Ports(new FindingQuery { Quick = FindingQuickFilter.New }));
        Assert.Equal([3389, 8080], await Ports(new FindingQuery { Quick = FindingQuickFilter.Unreviewed }));
        Assert.Equal([6379], await Ports(new FindingQuery { Quick = FindingQuickFilter.Abnormal }));
        Assert.Equal([3389], await Ports(new FindingQuery { Quick = FindingQuickFilter.HighRisk })); // 6379 is closed
        Assert.Equal([8080], await Ports(new FindingQuery { Quick = FindingQuickFilter.ChangedService }));
        Assert.Equal("port 70000 is outside 0-65535", new FindingQuery { Search = "70000" }.SearchError);

        // The search syntax: port/protocol, ranges, field:value words, quoted phrases, several words together.
        Assert.Equal([3389], await Ports(new FindingQuery { Search = "3389/tcp" }));
        Assert.Empty(await Ports(new FindingQuery { Search = "3389/udp" }));
        Assert.Equal([6379, 8080], await Ports(new FindingQuery { Search = "5000-9999" }));
        Assert.Equal([443], await Ports(new FindingQuery { Search = "product:nginx" }));
        Assert.Equal([6379], await Ports(new FindingQuery { Search = "product:\"redis 100\"" }));
        Assert.Equal([3389, 6379], await Ports(new FindingQuery { Search = "severity:high+" }));
        Assert.Equal([3389], await Ports(new FindingQuery { Search = "severity:high" }));
        Assert.Equal([6379], await Ports(new FindingQuery { Search = "status:abnormal" }));
        Assert.Equal([443], await Ports(new FindingQuery { Search = "owner:alice tag:prod" }));
        Assert.Empty(await Ports(new FindingQuery { Search = "tag:staging" }));
        Assert.Equal([3389], await Ports(new FindingQuery { Search = "203.0.113.0/24 severity:high" }));
        Assert.Equal([8080], await Ports(new FindingQuery { Search = "service:http apache" }));
        Assert.Contains("not one of", new FindingQuery { Search = "severity:urgent" }.SearchError, StringComparison.Ordinal);
        Assert.Contains("not a search field", new FindingQuery { Search = "colour:red" }.SearchError, StringComparison.Ordinal);
        Assert.Equal("port range 9000-80 runs backwards", new FindingQuery { Search = "9000-80" }.SearchError);
        Assert.Null(new FindingQuery { Search = "dead:beef::1" }.SearchError); // an IPv6 address, not a field
    }

    [Fact]
    public async Task Apply_Sqlite_FiltersAndSearchesFindAnalystsExpect()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        await FiltersAgreeAsync(database.CreateContext);
    }

    [PostgresFact]
    public async Task Apply_Postgres_FiltersAndSearchesFindAnalystsExpect()
    {
        var (connectionString, drop) = PostgresTests.NewDatabase();
        try
        {
            var contexts = PostgresTests.Contexts(connectionString);
            await using (var db = contexts())
                await db.Database.MigrateAsync();
            await FiltersAgreeAsync(contexts);
        }
        finally
        {
            await drop();
        }
    }
}
