using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using SQLitePCL;

namespace PortWatch.Web.Data;

/// <summary>
/// Saves the context's modified entities: what SaveChanges would write (the changed columns, by
/// primary key, values converted by the EF model), on SQLite as prepared UPDATEs bound by position
/// on the native handle, one per distinct set of changed columns. A rescan or a second import
/// changes hundreds of thousands of known findings (last seen, last run); through SaveChanges
/// they took about 60 µs each, all inside the triage's transaction, which holds SQLite's one
/// write lock. Anything else tracked (added or deleted rows), and PostgreSQL, go through SaveChanges.
/// </summary>
public static class BulkUpdate
{
    public static async Task SaveModifiedAsync(PortWatchDbContext db, CancellationToken cancellationToken)
    {
        var entries = db.ChangeTracker.Entries().Where(e => e.State != EntityState.Unchanged && e.State != EntityState.Detached).ToList();
        if (entries.Count == 0)
            return;
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (db.Database.GetDbConnection() is not SqliteConnection sqlite || db.Database.CurrentTransaction is null
                || entries.Any(e => e.State != EntityState.Modified || e.Metadata.GetTableName() is null))
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            var sql = db.GetService<ISqlGenerationHelper>();
            var times = new SqliteNative.TimeText();
            foreach (var group in entries.GroupBy(e => (e.Metadata, Columns: string.Join(',', Changed(e).Select(p => p.Name)))))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entity = group.Key.Metadata;
                var changed = Changed(group.First()).ToList();
                if (changed.Count == 0)
                    continue; // marked modified with nothing but the key changed: nothing to write
                var key = entity.FindPrimaryKey()!.Properties;
                var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
                var text = $"UPDATE {sql.DelimitIdentifier(table.Name, table.Schema)} SET "
                    + string.Join(", ", changed.Select(p => $"{sql.DelimitIdentifier(p.GetColumnName(table)!)} = ?"))
                    + " WHERE " + string.Join(" AND ", key.Select(p => $"{sql.DelimitIdentifier(p.GetColumnName(table)!)} = ?"));
                SqliteNative.Check(sqlite, raw.sqlite3_prepare_v2(sqlite.Handle, text, out var statement));
                using (statement)
                {
                    var columns = changed.Concat(key).ToList();
                    foreach (var entry in group)
                    {
                        for (var i = 0; i < columns.Count; i++)
                            SqliteNative.Check(sqlite, SqliteNative.Bind(statement, i + 1, ProviderValue(entry, columns[i]), times));
                        var done = SqliteNative.Step(sqlite, statement);
                        raw.sqlite3_reset(statement);
                        if (done != raw.SQLITE_DONE)
                            SqliteNative.Check(sqlite, done);
                        if (raw.sqlite3_changes(sqlite.Handle) != 1)
                            throw new DbUpdateConcurrencyException($"{entity.ClrType.Name} {string.Join(",", key.Select(p => entry.CurrentValues[p]))} was not there to update");
                    }
                }
            }
            foreach (var entry in entries)
                entry.State = EntityState.Unchanged; // written: what SaveChanges' accept step does
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static IEnumerable<IProperty> Changed(EntityEntry entry) =>
        entry.Properties.Where(p => p.IsModified && !p.Metadata.IsPrimaryKey()).Select(p => p.Metadata).OrderBy(p => p.Name, StringComparer.Ordinal);

    private static object? ProviderValue(EntityEntry entry, IProperty property)
    {
        var value = entry.CurrentValues[property];
        return value is not null && property.GetTypeMapping().Converter is { } converter ? converter.ConvertToProvider(value) : value;
    }
}
