using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace PortWatch.Web.Data;

/// <summary>
/// Whether this node's last database write went through. A database that answers reads but refuses
/// writes (a full disk, a read-only file, a failed-over replica) must not look healthy: scans stall
/// and changes are lost while it lasts. Written by every retried write and by the node heartbeat.
/// </summary>
public sealed class DatabaseWriteHealth(TimeProvider clock)
{
    private readonly object gate = new();
    private string? failure;
    private DateTimeOffset? failingSince;

    /// <summary>Null while writes succeed; else why the last one failed and since when.</summary>
    public (string Reason, DateTimeOffset Since)? Failure
    {
        get
        {
            lock (gate)
                return failure is null ? null : (failure, failingSince!.Value);
        }
    }

    public void Succeeded()
    {
        lock (gate)
        {
            failure = null;
            failingSince = null;
        }
    }

    public void Failed(Exception error)
    {
        lock (gate)
        {
            failure = Describe(error);
            failingSince ??= clock.GetUtcNow();
        }
    }

    /// <summary>
    /// A failure that may pass (I/O, locks, connection loss, a read-only file), as opposed to one
    /// that will fail the same way again (a constraint, a bug): only the first kind is retried.
    /// </summary>
    public static bool IsTransient(Exception error)
    {
        var inner = error;
        while (inner is not DbException && inner.InnerException is not null)
            inner = inner.InnerException;
        return inner switch
        {
            SqliteException sqlite => sqlite.SqliteErrorCode is not (19 /* CONSTRAINT */ or 20 /* MISMATCH */ or 1 /* SQL error */),
            PostgresException postgres => !postgres.SqlState.StartsWith("23", StringComparison.Ordinal) && !postgres.SqlState.StartsWith("42", StringComparison.Ordinal),
            NpgsqlException or DbException => true,
            IOException or TimeoutException => true,
            _ => error is DbUpdateException { InnerException: null },
        };
    }

    public static string Describe(Exception error)
    {
        var inner = error;
        while (inner.InnerException is not null)
            inner = inner.InnerException;
        return inner.Message.Length > 300 ? inner.Message[..300] : inner.Message;
    }
}
