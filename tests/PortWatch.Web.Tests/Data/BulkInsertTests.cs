using System.Data.Common;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Tests.Data;

/// <summary>
/// BulkInsert writes what SaveChanges would have written, byte for byte in the stored columns,
/// and hands each row the key the database gave it (SQLite) — on both providers, through its
/// multi-row statements and the rows left over.
/// </summary>
public class BulkInsertTests
{
    /// <summary>Enough rows for several 32-row statements and a remainder, with every kind of value a column holds.</summary>
    private static List<Finding> Rows()
    {
        var start = new DateTime(2026, 12, 1, 8, 30, 15, 123, DateTimeKind.Utc).AddTicks(4567);
        return Enumerable.Range(0, 101).Select(i => new Finding
        {
            Address = $"198.18.0.{i}",
            AddressKey = IpKey.From(System.Net.IPAddress.Parse($"198.18.0.{i}")),
            Port = 1 + i * 613 % 65535,
            Protocol = i % 3 == 0 ? TransportProtocol.Udp : TransportProtocol.Tcp,
            FirstSeenAt = start.AddSeconds(i),
            LastSeenAt = start.AddMinutes(i),
            UpdatedAt = start,
            LastAlertedAt = i % 2 == 0 ? null : start.AddDays(i),
            CurrentState = i % 4 == 0 ? PortState.Closed : PortState.Open,
            ServiceName = i % 5 == 0 ? null : "http",
            Product = i % 7 == 0 ? "nginx ‘ü’ 🚀 <b>'x'</b>" : null,
            Version = i % 2 == 0 ? "" : "1.2",
            LastRunId = i,
            Status = (TriageStatus)(i % 4),
            Severity = (Severity)(i % 5),
            SeverityOverride = i % 6 == 0 ? Severity.Critical : null,
            Kind = i == 100 ? FindingKind.HostAnomaly : FindingKind.Port,
            Flags = (FindingFlags)(i % 8),
            Notes = i % 9 == 0 ? new string('n', 4000) : null,
            AlertFingerprint = $"Port|Open|{i}|",
        }).ToList();
    }

    private static async Task<List<string>> StoredRowsAsync(PortWatchDbContext db)
    {
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = "SELECT * FROM \"Findings\" ORDER BY \"AddressKey\", \"Port\"";
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
                rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Where(c => reader.GetName(c) != "Id")
                    .Select(c => $"{reader.GetName(c)}={Text(reader, c)}")));
            return rows;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static string Text(DbDataReader reader, int column) =>
        reader.IsDBNull(column) ? "NULL" : Convert.ToString(reader.GetValue(column), CultureInfo.InvariantCulture) ?? "";

    private static async Task BulkAndSaveChangesAgreeAsync(Func<PortWatchDbContext> bulkDatabase, Func<PortWatchDbContext> savedDatabase)
    {
        var bulk = Rows();
        var given = new Dictionary<Finding, long>();
        await using (var db = bulkDatabase())
        {
            await using var transaction = await BulkTransaction.BeginAsync(db, CancellationToken.None);
            await BulkInsert.InsertAsync(db, bulk, CancellationToken.None, (finding, id) => given[finding] = id);
            await transaction.CommitAsync();
        }
        await using (var db = savedDatabase())
        {
            db.Findings.AddRange(Rows());
            await db.SaveChangesAsync();
        }

        await using var bulkRead = bulkDatabase();
        await using var savedRead = savedDatabase();
        Assert.Equal(await StoredRowsAsync(savedRead), await StoredRowsAsync(bulkRead));
        var stored = await bulkRead.Findings.AsNoTracking().ToDictionaryAsync(f => (f.AddressKey, f.Port), f => f.Id);
        foreach (var (finding, id) in given)
            Assert.Equal(stored[(finding.AddressKey, finding.Port)], id);
        if (bulkRead is SqlitePortWatchDbContext)
            Assert.Equal(bulk.Count, given.Count); // SQLite reports each row's key; PostgreSQL callers read them back
    }

    [Fact]
    public async Task InsertAsync_OnSqlite_StoresWhatSaveChangesStoresAndGivesEachRowItsKey()
    {
        await using var bulk = await SqliteDatabase.CreateMigratedAsync();
        await using var saved = await SqliteDatabase.CreateMigratedAsync();
        // A row already there: the keys handed back continue after it rather than starting from 1.
        await using (var db = bulk.CreateContext())
        {
            db.Findings.Add(new Finding { Address = "192.0.2.1", AddressKey = "0", Port = 1, FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
            db.Findings.Remove(db.Findings.Local.Single());
            await db.SaveChangesAsync();
        }
        await BulkAndSaveChangesAgreeAsync(bulk.CreateContext, saved.CreateContext);
    }

    [Fact]
    public async Task InsertAsync_OnSqliteOutsideATransaction_IsRefused()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        await using var db = database.CreateContext();
        await Assert.ThrowsAsync<InvalidOperationException>(() => BulkInsert.InsertAsync(db, Rows(), CancellationToken.None));
        Assert.Equal(0, await db.Findings.CountAsync());
    }

    /// <summary>
    /// A bulk transaction keeps SQLite's statement journal in memory: a multi-row statement that fails on the
    /// unique index part-way must still be undone exactly, and the connection, back in the pool, must be as it was.
    /// </summary>
    [Fact]
    public async Task InsertAsync_DuplicateInTheMiddleOfAStatement_UndoesTheStatementAndLeavesThePooledConnectionAsItWas()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        var rows = Rows();
        rows[40] = Rows()[39]; // the 40th row of the file, twice: the second of the 32-row statements fails on it
        await using (var db = database.CreateContext())
        {
            await using var transaction = await BulkTransaction.BeginAsync(db, CancellationToken.None);
            await BulkInsert.InsertAsync(db, rows[..33], CancellationToken.None); // one alone, then one statement of 32
            await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => BulkInsert.InsertAsync(db, rows[33..], CancellationToken.None));
            Assert.Equal(33, await db.Findings.CountAsync()); // the failed statement's rows are gone, the earlier ones kept
            await transaction.CommitAsync(CancellationToken.None);
        }

        await using var read = database.CreateContext();
        Assert.Equal(33, await read.Findings.CountAsync());
        Assert.Equal(0, await read.Database.SqlQueryRaw<int>("SELECT temp_store AS Value FROM pragma_temp_store").SingleAsync());
    }

    [PostgresFact]
    public async Task InsertAsync_OnPostgres_StoresWhatSaveChangesStores()
    {
        var (bulkConnection, dropBulk) = PostgresTests.NewDatabase();
        var (savedConnection, dropSaved) = PostgresTests.NewDatabase();
        try
        {
            foreach (var connection in new[] { bulkConnection, savedConnection })
            {
                await using var db = PostgresTests.Contexts(connection)();
                await db.Database.MigrateAsync();
            }
            await BulkAndSaveChangesAgreeAsync(PostgresTests.Contexts(bulkConnection), PostgresTests.Contexts(savedConnection));
        }
        finally
        {
            await dropBulk();
            await dropSaved();
        }
    }
}
