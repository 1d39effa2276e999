using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using SQLitePCL;

namespace PortWatch.Web.Data;

/// <summary>
/// Appends many rows of one entity type, on the context's own connection and transaction.
/// Column names, conversions (UTC times, enums, JSON lists) and parameter types come from the EF
/// model, so the rows are exactly what SaveChanges would write; nothing is tracked. For rows
/// written by the hundred thousand (an import's observations and coverage, a big run's new
/// findings and their events): SaveChanges spends ~50 µs a row on tracking and per-row RETURNING,
/// which made a 700,000-port import take minutes.
/// PostgreSQL gets prepared multi-row INSERTs (a round trip each). SQLite is in-process: prepared
/// statements of 32 rows, bound by position through the native handle (Microsoft.Data.Sqlite binds
/// each parameter by name, a linear search per parameter, which cost more than SQLite's own insert).
/// </summary>
public static class BulkInsert
{
    private const int PostgresRowsPerStatement = 200;

    /// <param name="inserted">Called with each row and its generated key where the provider reports keys row by row
    /// (SQLite); not called otherwise, so a caller that needs the keys reads them back by a unique key when it is not.</param>
    public static async Task InsertAsync<T>(PortWatchDbContext db, IEnumerable<T> rows, CancellationToken cancellationToken,
        Action<T, long>? inserted = null)
        where T : class
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var columns = entity.GetProperties().Where(p => !(p.IsPrimaryKey() && p.ValueGenerated != ValueGenerated.Never)).ToList();
        var sql = db.GetService<ISqlGenerationHelper>();
        var accessors = columns.Select(c => (Getter: c.GetGetter(), Converter: c.GetTypeMapping().Converter)).ToArray();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            if (connection is SqliteConnection sqlite)
            {
                // Rows stepped one by one outside a transaction would each commit (and could meet a busy database without
                // Microsoft.Data.Sqlite's retries); every caller writes as part of a larger change anyway.
                if (transaction is null)
                    throw new InvalidOperationException("a bulk insert into SQLite runs inside the context's transaction");
                InsertSqlite(sqlite, count => InsertText(sql, table, columns, count, positional: true), accessors, rows, inserted, cancellationToken);
            }
            else
            {
                await InsertBatchedAsync(connection, transaction, sql, table, columns, accessors, rows, cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <param name="positional">Plain <c>?</c> placeholders (SQLite, bound by position): SQLite's parser looks up every named
    /// parameter among the ones before it, which for a statement of 32 rows × 25 columns was a quadratic 5% of an import.</param>
    private static string InsertText(ISqlGenerationHelper sql, StoreObjectIdentifier table, List<IProperty> columns, int rowCount, bool positional = false)
    {
        var text = new StringBuilder("INSERT INTO ")
            .Append(sql.DelimitIdentifier(table.Name, table.Schema))
            .Append(" (")
            .AppendJoin(", ", columns.Select(c => sql.DelimitIdentifier(c.GetColumnName(table)!)))
            .Append(") VALUES ");
        for (var row = 0; row < rowCount; row++)
        {
            text.Append(row == 0 ? "(" : ", (");
            for (var column = 0; column < columns.Count; column++)
                text.Append(column == 0 ? "" : ", ").Append(positional ? "?" : sql.GenerateParameterNamePlaceholder(ParameterName(row, column)));
            text.Append(')');
        }
        return text.ToString();
    }

    private static string ParameterName(int row, int column) => $"p{row}_{column}";

    private static object? ProviderValue((IClrPropertyGetter Getter, ValueConverter? Converter) column, object row)
    {
        var value = column.Getter.GetClrValue(row);
        return value is not null && column.Converter is not null ? column.Converter.ConvertToProvider(value) : value;
    }

    /// <summary>Rows per statement on SQLite: one execution opens the table's and its indexes' cursors once for all of them.</summary>
    private const int SqliteRowsPerStatement = 32;

    private static void InsertSqlite<T>(SqliteConnection connection, Func<int, string> text, (IClrPropertyGetter, ValueConverter?)[] columns,
        IEnumerable<T> rows, Action<T, long>? inserted, CancellationToken cancellationToken)
        where T : class
    {
        var handle = connection.Handle ?? throw new InvalidOperationException("the SQLite connection is not open");
        // A 16 MB page cache while writing (the default is 2 MB): the tables written in bulk have several indexes. Given back
        // afterwards, since pooled connections keep theirs. 64 MB was no faster.
        SqliteNative.Execute(connection, "PRAGMA cache_size = -16384");
        SqliteNative.Check(connection, raw.sqlite3_prepare_v2(handle, text(1), out var single));
        SqliteNative.Check(connection, raw.sqlite3_prepare_v2(handle, text(SqliteRowsPerStatement), out var many));
        try
        {
            var times = new SqliteNative.TimeText();
            var buffer = new List<T>(SqliteRowsPerStatement);
            var count = 0;
            long? lastId = null;
            foreach (var row in rows)
            {
                if ((++count & 0xFFF) == 0)
                    cancellationToken.ThrowIfCancellationRequested();
                // Until one row has been written alone, the id before a statement is not known, and with it the ids the statement gave.
                if (inserted is not null && lastId is null)
                {
                    lastId = Run(connection, single, columns, [row], times, inserted, null);
                    continue;
                }
                buffer.Add(row);
                if (buffer.Count == SqliteRowsPerStatement)
                {
                    lastId = Run(connection, many, columns, buffer, times, inserted, lastId);
                    buffer.Clear();
                }
            }
            foreach (var row in buffer)
                lastId = Run(connection, single, columns, [row], times, inserted, lastId);
        }
        finally
        {
            single.Dispose();
            many.Dispose();
            SqliteNative.Execute(connection, "PRAGMA cache_size = -2000");
            SqliteNative.Execute(connection, "PRAGMA shrink_memory");
        }
    }

    /// <summary>
    /// Binds the rows by position, steps once, and hands each row its generated key. SQLite gives the rows of one INSERT
    /// increasing keys, each above every key before it; so when the statement's last key is the previous last key plus
    /// the number of rows, the rows have exactly the keys in between, in order. Anything else is refused, never guessed.
    /// </summary>
    private static long Run<T>(SqliteConnection connection, sqlite3_stmt statement, (IClrPropertyGetter, ValueConverter?)[] columns,
        List<T> rows, SqliteNative.TimeText times, Action<T, long>? inserted, long? lastId)
        where T : class
    {
        for (var row = 0; row < rows.Count; row++)
        {
            for (var column = 0; column < columns.Length; column++)
                SqliteNative.Check(connection, SqliteNative.Bind(statement, row * columns.Length + column + 1, ProviderValue(columns[column], rows[row]), times));
        }
        var done = SqliteNative.Step(connection, statement);
        raw.sqlite3_reset(statement);
        if (done != raw.SQLITE_DONE)
            SqliteNative.Check(connection, done);
        var last = raw.sqlite3_last_insert_rowid(connection.Handle);
        if (inserted is null)
            return last;
        if (rows.Count > 1 && last - lastId != rows.Count)
            throw new InvalidOperationException($"SQLite gave {rows.Count} rows keys that are not consecutive (last {last}, before {lastId})");
        for (var row = 0; row < rows.Count; row++)
            inserted(rows[row], last - rows.Count + 1 + row);
        return last;
    }

    private static async Task InsertBatchedAsync<T>(DbConnection connection, DbTransaction? transaction, ISqlGenerationHelper sql,
        StoreObjectIdentifier table, List<IProperty> columns, (IClrPropertyGetter, ValueConverter?)[] accessors, IEnumerable<T> rows,
        CancellationToken cancellationToken)
        where T : class
    {
        await using var full = Prepare(connection, transaction, sql, table, columns, PostgresRowsPerStatement);
        var buffer = new List<T>(PostgresRowsPerStatement);
        foreach (var row in rows)
        {
            buffer.Add(row);
            if (buffer.Count == PostgresRowsPerStatement)
            {
                await ExecuteAsync(full, accessors, buffer, cancellationToken);
                buffer.Clear();
            }
        }
        if (buffer.Count > 0)
        {
            await using var tail = Prepare(connection, transaction, sql, table, columns, buffer.Count);
            await ExecuteAsync(tail, accessors, buffer, cancellationToken);
        }
    }

    private static DbCommand Prepare(DbConnection connection, DbTransaction? transaction, ISqlGenerationHelper sql, StoreObjectIdentifier table,
        List<IProperty> columns, int rowCount)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertText(sql, table, columns, rowCount);
        for (var row = 0; row < rowCount; row++)
        {
            for (var column = 0; column < columns.Count; column++)
            {
                var mapping = (RelationalTypeMapping)columns[column].GetRelationalTypeMapping();
                command.Parameters.Add(mapping.CreateParameter(command, sql.GenerateParameterName(ParameterName(row, column)), null, columns[column].IsNullable));
            }
        }
        return command;
    }

    private static async Task ExecuteAsync<T>(DbCommand command, (IClrPropertyGetter, ValueConverter?)[] columns, List<T> rows, CancellationToken cancellationToken)
        where T : class
    {
        for (var row = 0; row < rows.Count; row++)
        {
            for (var column = 0; column < columns.Length; column++)
                command.Parameters[row * columns.Length + column].Value = ProviderValue(columns[column], rows[row]) ?? DBNull.Value;
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
