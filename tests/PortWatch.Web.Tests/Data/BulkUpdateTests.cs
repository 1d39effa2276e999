using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Tests.Data;

/// <summary>BulkUpdate stores what SaveChanges stores for the same changes, whichever columns each row changed.</summary>
public class BulkUpdateTests
{
    private static List<Finding> Rows() => Enumerable.Range(0, 60).Select(i => new Finding
    {
        Address = $"198.18.1.{i}", AddressKey = IpKey.From(System.Net.IPAddress.Parse($"198.18.1.{i}")), Port = 80 + i,
        FirstSeenAt = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc), LastSeenAt = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc),
        UpdatedAt = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc), CurrentState = PortState.Open, ServiceName = "http",
    }).ToList();

    /// <summary>Three kinds of change, as a rescan makes them: seen again; closed; service and triage changed.</summary>
    private static void Change(IEnumerable<Finding> findings)
    {
        var seen = new DateTime(2026, 12, 1, 9, 15, 30, 250, DateTimeKind.Utc).AddTicks(7);
        foreach (var f in findings)
        {
            switch (f.Port % 3)
            {
                case 0:
                    (f.LastSeenAt, f.LastRunId, f.UpdatedAt) = (seen, 2, seen);
                    break;
                case 1:
                    (f.CurrentState, f.AlertFingerprint, f.UpdatedAt) = (PortState.Closed, null, seen);
                    break;
                default:
                    (f.ServiceName, f.Product, f.Status, f.Severity, f.Flags) = (null, "Redis ‘7’", TriageStatus.Abnormal, Severity.High, FindingFlags.ServiceChanged);
                    break;
            }
        }
    }

    private static async Task<List<string>> StoredAsync(PortWatchDbContext db) =>
        (await db.Findings.AsNoTracking().OrderBy(f => f.Port).ToListAsync())
        .Select(f => string.Join('|', f.Port, f.LastSeenAt.ToString("O"), f.LastRunId, f.UpdatedAt.ToString("O"), f.CurrentState, f.AlertFingerprint,
            f.ServiceName, f.Product, f.Status, f.Severity, f.Flags, f.FirstSeenAt.ToString("O"))).ToList();

    [Fact]
    public async Task SaveModifiedAsync_OnSqlite_StoresWhatSaveChangesStores()
    {
        await using var bulk = await SqliteDatabase.CreateMigratedAsync();
        await using var saved = await SqliteDatabase.CreateMigratedAsync();
        foreach (var database in new[] { bulk, saved })
        {
            await using var db = database.CreateContext();
            db.Findings.AddRange(Rows());
            await db.SaveChangesAsync();
        }

        await using (var db = saved.CreateContext())
        {
            Change(await db.Findings.ToListAsync());
            await db.SaveChangesAsync();
        }
        await using (var db = bulk.CreateContext())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            Change(await db.Findings.ToListAsync());
            db.ChangeTracker.DetectChanges();
            await BulkUpdate.SaveModifiedAsync(db, CancellationToken.None);
            Assert.All(db.ChangeTracker.Entries(), e => Assert.Equal(EntityState.Unchanged, e.State));
            await transaction.CommitAsync();
        }

        await using var bulkRead = bulk.CreateContext();
        await using var savedRead = saved.CreateContext();
        var expected = await StoredAsync(savedRead);
        Assert.Equal(expected, await StoredAsync(bulkRead));
        Assert.Contains(expected, row => row.Contains("Redis ‘7’", StringComparison.Ordinal)); // the changes landed, in both
        Assert.Contains(expected, row => row.Contains("|Closed|", StringComparison.Ordinal));
    }
}
