using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PortWatch.Web.Configuration;

/// <summary>
/// The checked database settings: provider, connection string and data directory, resolved
/// once from the "PortWatch" and "Database" sections. Every problem becomes one
/// <see cref="StartupException"/> with a message an operator can act on.
/// </summary>
public sealed class ResolvedDatabase
{
    public ResolvedDatabase(IOptions<DatabaseOptions> database, IOptions<PortWatchOptions> portWatch, IHostEnvironment environment)
    {
        var db = database.Value;
        DataDirectory = PrepareDataDirectory(portWatch.Value.DataDirectory, environment.ContentRootPath);
        try
        {
            Provider = db.ParsedProvider;
        }
        catch (InvalidOperationException)
        {
            throw new StartupException($"Database:Provider '{db.Provider}' is not supported. Use 'Sqlite' (default) or 'PostgreSQL'.");
        }
        MigrateOnStartup = db.MigrateOnStartup;
        ConnectionString = Provider switch
        {
            DatabaseProvider.Sqlite => SqliteConnectionString(db.ConnectionString, DataDirectory),
            _ => PostgresConnectionString(db.ConnectionString),
        };
    }

    public DatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    public string DataDirectory { get; }

    public bool MigrateOnStartup { get; }

    /// <summary>The connection target without secrets, for log lines and error messages.</summary>
    public string Describe() => Provider switch
    {
        DatabaseProvider.Sqlite => $"SQLite {new SqliteConnectionStringBuilder(ConnectionString).DataSource}",
        _ => DescribePostgres(ConnectionString),
    };

    private static string DescribePostgres(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
    }

    private static string PrepareDataDirectory(string configured, string contentRoot)
    {
        if (string.IsNullOrWhiteSpace(configured))
            throw new StartupException("PortWatch:DataDirectory is empty. Set it to a writable directory (environment PortWatch__DataDirectory).");
        var path = Path.GetFullPath(configured, contentRoot);
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new StartupException($"PortWatch:DataDirectory '{path}' is not a writable directory: {ex.Message}", ex);
        }
        return path;
    }

    private static string SqliteConnectionString(string? configured, string dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            return new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(dataDirectory, "portwatch.db"),
                Pooling = true,
                DefaultTimeout = 30,
            }.ToString();
        }
        try
        {
            var builder = new SqliteConnectionStringBuilder(configured);
            if (string.IsNullOrWhiteSpace(builder.DataSource))
                throw new StartupException("Database:ConnectionString for SQLite has no 'Data Source'.");
            // A relative file name belongs in the data directory, not wherever the process happens to start.
            if (builder.DataSource != ":memory:" && !Path.IsPathRooted(builder.DataSource))
                builder.DataSource = Path.Combine(dataDirectory, builder.DataSource);
            return builder.ToString();
        }
        catch (ArgumentException ex)
        {
            throw new StartupException($"Database:ConnectionString is not a valid SQLite connection string: {ex.Message}", ex);
        }
    }

    private static string PostgresConnectionString(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
            throw new StartupException("Database:ConnectionString is required for PostgreSQL, e.g. \"Host=127.0.0.1;Database=portwatch;Username=portwatch;Password=...\".");
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(configured);
            if (string.IsNullOrWhiteSpace(builder.Host))
                throw new StartupException("Database:ConnectionString for PostgreSQL has no 'Host'.");
            return builder.ConnectionString;
        }
        catch (ArgumentException ex)
        {
            throw new StartupException($"Database:ConnectionString is not a valid PostgreSQL connection string: {ex.Message}", ex);
        }
    }
}
