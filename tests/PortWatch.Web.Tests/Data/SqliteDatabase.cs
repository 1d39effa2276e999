using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;

namespace PortWatch.Web.Tests.Data;

/// <summary>A migrated SQLite database in a temporary file, deleted afterwards.</summary>
public sealed class SqliteDatabase : IAsyncDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "portwatch-db-tests", Guid.NewGuid().ToString("N"));

    private SqliteDatabase() => Directory.CreateDirectory(directory);

    public string FilePath => Path.Combine(directory, "portwatch.db");

    public static async Task<SqliteDatabase> CreateMigratedAsync()
    {
        var database = new SqliteDatabase();
        await using var db = database.CreateContext();
        await db.Database.MigrateAsync();
        return database;
    }

    public PortWatchDbContext CreateContext() =>
        new SqlitePortWatchDbContext(new DbContextOptionsBuilder<PortWatchDbContext>().UseSqlite($"Data Source={FilePath}").Options);

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
