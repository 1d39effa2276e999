using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace PortWatch.Web.Data;

/// <summary>
/// The transaction of a bulk write (<see cref="BulkInsert"/> of hundreds of thousands of rows). On SQLite
/// its statement journal is kept in memory: each multi-row INSERT may fail part-way on a unique index, so
/// SQLite copies every page the statement changes into a statement journal first, and by default that
/// journal spills to a temporary file after 64 KiB: a 700,000-port import spent a fifth of its time writing
/// it. SQLite fixes where the journal lives when the write transaction begins, so the setting is made before
/// BEGIN and given back afterwards (pooled connections keep it). Temporary tables and sorts stay on disk
/// outside these transactions.
/// </summary>
public sealed class BulkTransaction : IAsyncDisposable
{
    private readonly PortWatchDbContext db;
    private readonly IDbContextTransaction transaction;
    private readonly SqliteConnection? sqlite;

    private BulkTransaction(PortWatchDbContext db, IDbContextTransaction transaction, SqliteConnection? sqlite)
    {
        this.db = db;
        this.transaction = transaction;
        this.sqlite = sqlite;
    }

    public static async Task<BulkTransaction> BeginAsync(PortWatchDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        var sqlite = db.Database.GetDbConnection() as SqliteConnection;
        try
        {
            if (sqlite is not null)
                SqliteNative.Execute(sqlite, "PRAGMA temp_store = MEMORY");
            return new BulkTransaction(db, await db.Database.BeginTransactionAsync(cancellationToken), sqlite);
        }
        catch
        {
            await ResetAsync(db, sqlite);
            throw;
        }
    }

    public Task CommitAsync(CancellationToken cancellationToken = default) => transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await ResetAsync(db, sqlite);
    }

    private static async Task ResetAsync(PortWatchDbContext db, SqliteConnection? sqlite)
    {
        if (sqlite is not null)
            SqliteNative.Execute(sqlite, "PRAGMA temp_store = DEFAULT");
        await db.Database.CloseConnectionAsync();
    }
}
