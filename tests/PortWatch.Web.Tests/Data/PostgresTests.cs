using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Tests.Data;

/// <summary>
/// The same data behaviour on PostgreSQL, and a whole scan run on it (Quartz's clustered store
/// included), when PORTWATCH_TEST_POSTGRES names a server (scripts/test.sh starts one as root).
/// Each test gets a database of its own, dropped afterwards.
/// </summary>
public class PostgresTests
{
    public const string Variable = "PORTWATCH_TEST_POSTGRES";

    /// <summary>A fresh database on the test server, and how to drop it.</summary>
    internal static (string ConnectionString, Func<Task> Drop) NewDatabase()
    {
        var server = Environment.GetEnvironmentVariable(Variable)!;
        var name = $"pw_test_{Guid.NewGuid():N}";
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        return (connectionString, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres" }.ConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        });
    }

    internal static Func<PortWatchDbContext> Contexts(string connectionString) =>
        () => new PostgresPortWatchDbContext(new DbContextOptionsBuilder<PortWatchDbContext>().UseNpgsql(connectionString).Options);

    [PostgresFact]
    public async Task Migrate_EmptyServer_CreatesSchemaAndEveryEntityRoundTrips()
    {
        var (connectionString, drop) = NewDatabase();
        try
        {
            await using (var db = Contexts(connectionString)())
                await db.Database.MigrateAsync();
            await DataModelTests.EveryEntityRoundTripsAsync(Contexts(connectionString));
        }
        finally
        {
            await drop();
        }
    }

    [PostgresFact]
    public async Task RangeQueries_OnPostgres_GiveTheSameAnswersAsOnSqlite()
    {
        var (connectionString, drop) = NewDatabase();
        try
        {
            await using (var db = Contexts(connectionString)())
                await db.Database.MigrateAsync();
            await DataModelTests.RangeQueriesWorkAsync(Contexts(connectionString));
        }
        finally
        {
            await drop();
        }
    }

    [PostgresFact]
    public async Task ScanRun_OnPostgresWithClusteredQuartz_Completes()
    {
        var (connectionString, drop) = NewDatabase();
        try
        {
            using var listener = new LoopbackListener();
            var port = listener.Port;
            using var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
            {
                ["Database:Provider"] = "PostgreSQL",
                ["Database:ConnectionString"] = connectionString,
            });
            int profileId;
            await using (var db = await app.CreateDbContextAsync())
            {
                var profile = new ScanProfile { Name = "pg", TcpPorts = $"{port}", Engine = ScanEngineKind.Connect, Retries = 0, TimeoutMs = 500, ServiceDetection = false };
                db.ScanProfiles.Add(profile);
                await db.SaveChangesAsync();
                profileId = profile.Id;
            }

            var runId = await app.Services.GetRequiredService<ScanQueue>().QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profileId });
            var run = await Eventually.WaitAsync(async () =>
            {
                await using var db = await app.CreateDbContextAsync();
                return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
            }, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(30));

            Assert.Equal(ScanRunStatus.Completed, run.Status);
            Assert.Equal(1, run.OpenCount);
        }
        finally
        {
            await drop();
        }
    }
}

public class PostgresSentinelTests
{
    /// <summary>The sentinel tier's queries (the pass, its summary and pruning, the lost-host search) on PostgreSQL.</summary>
    [PostgresFact]
    public async Task SentinelTier_OnPostgres_PassSummaryPruneAndLostHostSearchWork()
    {
        var (connectionString, drop) = PostgresTests.NewDatabase();
        try
        {
            using var listener = new LoopbackListener();
            await using var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
            {
                ["Database:Provider"] = "PostgreSQL",
                ["Database:ConnectionString"] = connectionString,
                ["Sentinel:Engine"] = "Connect",
                ["Sentinel:TimeoutMs"] = "300",
            });
            await using (var db = await app.CreateDbContextAsync())
            {
                db.Assets.Add(TestAssets.For("127.0.0.1", "loopback"));
                db.RiskRules.RemoveRange(db.RiskRules);
                db.RiskRules.Add(new RiskRule { Port = listener.Port, Protocol = TransportProtocol.Tcp, Name = "test", Severity = Severity.High });
                await db.SaveChangesAsync();
            }
            var passes = app.Services.GetRequiredService<PortWatch.Web.Sentinel.SentinelPasses>();
            var runId = await passes.StartPassAsync();
            var run = await Eventually.WaitAsync(async () =>
            {
                await using var db = await app.CreateDbContextAsync();
                return await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
            }, r => r.Status is ScanRunStatus.Completed or ScanRunStatus.Failed, TimeSpan.FromSeconds(60));
            Assert.Equal((ScanRunStatus.Completed, 1), (run.Status, run.OpenCount));

            var summary = await passes.SummaryAsync(2);
            Assert.Equal((1, 1), (summary.Days.Single().Passes, summary.Days.Single().NewFindings));
            Assert.Equal(0, await passes.PruneAsync()); // recent, and its finding points at it

            await using (var db = await app.CreateDbContextAsync())
            {
                var lost = new ScanRun { Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Scheduled, TargetSpec = "127.0.0.1", CreatedAt = DateTime.UtcNow, FinishedAt = DateTime.UtcNow };
                db.ScanRuns.Add(lost);
                await db.SaveChangesAsync();
                db.ScanTargetCoverage.Add(new ScanTargetCoverage { ScanRunId = lost.Id, Address = "127.0.0.1", AddressKey = IpKey.From(System.Net.IPAddress.Loopback), Status = TargetCoverageStatus.Lost, PortsAnswered = 3 });
                await db.SaveChangesAsync();
            }
            var host = Assert.Single(await app.Services.GetRequiredService<PortWatch.Web.Sentinel.CoverageRecovery>().FindLostHostsAsync());
            Assert.Equal([listener.Port], host.KnownOpen);
            Assert.Equal(0, await app.Services.GetRequiredService<PortWatch.Web.Sentinel.CoverageRecovery>().LiftLabelsAsync());
        }
        finally
        {
            await drop();
        }
    }
}

public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresTests.Variable)))
            Skip = $"set {PostgresTests.Variable} to a PostgreSQL server's connection string (scripts/test.sh does, as root)";
    }
}
