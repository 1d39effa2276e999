namespace PortWatch.Web.Configuration;

public enum DatabaseProvider
{
    Sqlite,
    PostgreSQL,
}

/// <summary>Section "Database".</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>"Sqlite" (default, a file in the data directory) or "PostgreSQL".</summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    /// <summary>Required for PostgreSQL. For SQLite, empty means "portwatch.db in the data directory".</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply pending migrations at start-up. Turn off where a DBA applies them from the generated SQL scripts.</summary>
    public bool MigrateOnStartup { get; set; } = true;

    public DatabaseProvider ParsedProvider =>
        Enum.TryParse<DatabaseProvider>(Provider, ignoreCase: true, out var p) ? p
        : Provider.Equals("Postgres", StringComparison.OrdinalIgnoreCase) || Provider.Equals("Npgsql", StringComparison.OrdinalIgnoreCase) ? DatabaseProvider.PostgreSQL
        : throw new InvalidOperationException($"unknown provider '{Provider}'");
}
