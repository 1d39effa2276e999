using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace PortWatch.Web.Data;

/// <summary>
/// Appends many rows of one entity type with prepared multi-row INSERTs, on the context's own
/// connection and transaction. Column names, conversions (UTC times, enums) and parameter types
/// come from the EF model, so the rows are exactly what SaveChanges would write; the rows get no
/// ids back and nothing is tracked. For rows nothing else refers to in the same transaction
/// (an import's observations without services, its coverage rows): SaveChanges spends ~50 µs a row
/// on tracking and per-row RETURNING, which made a 700,000-port import take minutes.
/// </summary>
public static class BulkInsert
{
    /// <summary>
    /// Rows per INSERT: many for PostgreSQL (a round trip each), one for SQLite, which is in-process
    /// and finds a parameter by name with a linear search, so a statement of many rows binds in
    /// quadratic time.
    /// </summary>
    private static int RowsPerStatement(PortWatchDbContext db) => db is SqlitePortWatchDbContext ? 1 : 200;

    public static async Task InsertAsync<T>(PortWatchDbContext db, IEnumerable<T> rows, CancellationToken cancellationToken)
        where T : class
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var columns = entity.GetProperties().Where(p => !(p.IsPrimaryKey() && p.ValueGenerated != ValueGenerated.Never)).ToList();
        var sql = db.GetService<ISqlGenerationHelper>();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            if (db is SqlitePortWatchDbContext)
            {
                // A 64 MB page cache for this connection: the tables written in bulk have many indexes, whose pages
                // otherwise go in and out of SQLite's default 2 MB cache on every row.
                await using var pragma = connection.CreateCommand();
                pragma.Transaction = transaction;
                pragma.CommandText = "PRAGMA cache_size = -65536";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }
            var accessors = columns.Select(c => (Getter: c.GetGetter(), Converter: c.GetTypeMapping().Converter)).ToArray();
            var perStatement = RowsPerStatement(db);
            var full = Prepare(connection, transaction, sql, table, columns, perStatement);
            DbCommand? tail = null;
            var buffer = new List<T>(perStatement);
            foreach (var row in rows)
            {
                buffer.Add(row);
                if (buffer.Count == perStatement)
                {
                    await ExecuteAsync(full, accessors, buffer, cancellationToken);
                    buffer.Clear();
                }
            }
            if (buffer.Count > 0)
            {
                tail = Prepare(connection, transaction, sql, table, columns, buffer.Count);
                await ExecuteAsync(tail, accessors, buffer, cancellationToken);
            }
            await full.DisposeAsync();
            if (tail is not null)
                await tail.DisposeAsync();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static DbCommand Prepare(DbConnection connection, DbTransaction? transaction, ISqlGenerationHelper sql, StoreObjectIdentifier table,
        List<IProperty> columns, int rowCount)
    {
        var text = new StringBuilder("INSERT INTO ")
            .Append(sql.DelimitIdentifier(table.Name, table.Schema))
            .Append(" (")
            .AppendJoin(", ", columns.Select(c => sql.DelimitIdentifier(c.GetColumnName(table)!)))
            .Append(") VALUES ");
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        for (var row = 0; row < rowCount; row++)
        {
            text.Append(row == 0 ? "(" : ", (");
            for (var column = 0; column < columns.Count; column++)
            {
                var name = $"p{row}_{column}";
                text.Append(column == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder(name));
                var mapping = (RelationalTypeMapping)columns[column].GetRelationalTypeMapping();
                command.Parameters.Add(mapping.CreateParameter(command, sql.GenerateParameterName(name), null, columns[column].IsNullable));
            }
            text.Append(')');
        }
        command.CommandText = text.ToString();
        return command;
    }

    private static async Task ExecuteAsync<T>(DbCommand command, (IClrPropertyGetter Getter, Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter? Converter)[] columns,
        List<T> rows, CancellationToken cancellationToken)
        where T : class
    {
        for (var row = 0; row < rows.Count; row++)
        {
            for (var column = 0; column < columns.Length; column++)
            {
                var (getter, converter) = columns[column];
                var value = getter.GetClrValue(rows[row]);
                if (value is not null && converter is not null)
                    value = converter.ConvertToProvider(value);
                command.Parameters[row * columns.Length + column].Value = value ?? DBNull.Value;
            }
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
