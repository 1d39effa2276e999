using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PortWatch.Web.Data;

/// <summary>
/// Statements on SQLite's native handle, for the bulk writes (<see cref="BulkInsert"/>,
/// <see cref="BulkUpdate"/>): binding by position, busy waits and errors as Microsoft.Data.Sqlite
/// has them. Always on the context's own open connection, inside its transaction.
/// </summary>
internal static class SqliteNative
{
    /// <summary>
    /// Steps the statement, waiting out a busy database as Microsoft.Data.Sqlite does (up to the connection's
    /// command timeout): in WAL mode a writer is not kept busy by readers, but a database in rollback-journal mode is.
    /// </summary>
    public static int Step(SqliteConnection connection, sqlite3_stmt statement)
    {
        var result = raw.sqlite3_step(statement);
        if (result is not (raw.SQLITE_BUSY or raw.SQLITE_LOCKED))
            return result;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (result is raw.SQLITE_BUSY or raw.SQLITE_LOCKED && waited.Elapsed.TotalSeconds < Math.Max(1, connection.DefaultTimeout))
        {
            raw.sqlite3_reset(statement);
            Thread.Sleep(5);
            result = raw.sqlite3_step(statement);
        }
        return result;
    }

    /// <summary>Binds a provider value as Microsoft.Data.Sqlite does for the types the model writes; any other type is refused, never guessed.</summary>
    public static int Bind(sqlite3_stmt statement, int index, object? value, TimeText times) => value switch
    {
        null => raw.sqlite3_bind_null(statement, index),
        string text => raw.sqlite3_bind_text16(statement, index, text.AsSpan()),
        long number => raw.sqlite3_bind_int64(statement, index, number),
        int number => raw.sqlite3_bind_int64(statement, index, number),
        short number => raw.sqlite3_bind_int64(statement, index, number),
        byte number => raw.sqlite3_bind_int64(statement, index, number),
        bool flag => raw.sqlite3_bind_int64(statement, index, flag ? 1 : 0),
        double real => raw.sqlite3_bind_double(statement, index, real),
        float real => raw.sqlite3_bind_double(statement, index, real),
        DateTime time => raw.sqlite3_bind_text16(statement, index, times.Format(time).AsSpan()),
        byte[] bytes => raw.sqlite3_bind_blob(statement, index, bytes),
        _ => throw new NotSupportedException($"bulk insert into SQLite does not bind {value.GetType().Name} values"),
    };

    /// <summary>Microsoft.Data.Sqlite's text for a DateTime, remembered for the last value: rows written in bulk mostly share their times.</summary>
    public sealed class TimeText
    {
        private DateTime last;
        private string? text;

        public string Format(DateTime time)
        {
            if (text is null || time != last || time.Kind != last.Kind)
                (last, text) = (time, time.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
            return text;
        }
    }

    public static void Execute(SqliteConnection connection, string text)
    {
        Check(connection, raw.sqlite3_exec(connection.Handle, text));
    }

    public static void Check(SqliteConnection connection, int result)
    {
        if (result is not raw.SQLITE_OK and not raw.SQLITE_DONE and not raw.SQLITE_ROW)
            SqliteException.ThrowExceptionForRC(result, connection.Handle);
    }
}
