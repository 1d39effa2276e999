using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

public enum DatabaseProvider
{
    Sqlite,
    PostgreSQL,
}

/// <summary>Section "Database".</summary>
public sealed class DatabaseOptions : IValidatableObject
{
    public const string Section = "Database";

    /// <summary>"Sqlite" (default, a file in the data directory) or "PostgreSQL".</summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    /// <summary>Required for PostgreSQL. For SQLite, empty means "portwatch.db in the data directory".</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply pending migrations at start-up. Turn off where a DBA applies them from the generated SQL scripts.</summary>
    public bool MigrateOnStartup { get; set; } = true;

    public DatabaseProvider ParsedProvider =>
        TryParseProvider(out var provider) ? provider : throw new InvalidOperationException($"unknown provider '{Provider}'");

    /// <summary>"Sqlite", "PostgreSQL" (also "Postgres" and "Npgsql"), any case.</summary>
    public bool TryParseProvider(out DatabaseProvider provider)
    {
        if (Enum.TryParse(Provider, ignoreCase: true, out provider))
            return true;
        provider = DatabaseProvider.PostgreSQL;
        return Provider.Equals("Postgres", StringComparison.OrdinalIgnoreCase) || Provider.Equals("Npgsql", StringComparison.OrdinalIgnoreCase);
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TryParseProvider(out _))
            yield return new ValidationResult($"Database:Provider must be Sqlite or PostgreSQL, not '{Provider}'.");
    }
}
