using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Tests.Configuration;

public class ResolvedDatabaseTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "portwatch-config-tests", Guid.NewGuid().ToString("N"));

    public ResolvedDatabaseTests() => Directory.CreateDirectory(root);

    private ResolvedDatabase Resolve(DatabaseOptions database, string dataDirectory = "data") =>
        new(Options.Create(database), Options.Create(new PortWatchOptions { DataDirectory = dataDirectory }), new TestEnvironment(root));

    [Fact]
    public void Resolve_Defaults_UsesSqliteFileInCreatedDataDirectory()
    {
        var resolved = Resolve(new DatabaseOptions());

        Assert.Equal(DatabaseProvider.Sqlite, resolved.Provider);
        Assert.True(Directory.Exists(Path.Combine(root, "data")));
        Assert.Contains(Path.Combine(root, "data", "portwatch.db"), resolved.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_UnknownProvider_FailsNamingTheProvider()
    {
        var ex = Assert.Throws<StartupException>(() => Resolve(new DatabaseOptions { Provider = "MySql" }));

        Assert.Equal("Database:Provider 'MySql' is not supported. Use 'Sqlite' (default) or 'PostgreSQL'.", ex.Message);
    }

    [Fact]
    public void Resolve_DataDirectoryBlockedByFile_FailsNamingThePath()
    {
        var blocker = Path.Combine(root, "not-a-directory");
        File.WriteAllText(blocker, "");

        var ex = Assert.Throws<StartupException>(() => Resolve(new DatabaseOptions(), Path.Combine(blocker, "data")));

        Assert.StartsWith($"PortWatch:DataDirectory '{Path.Combine(blocker, "data")}' is not a writable directory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_PostgresWithoutConnectionString_SaysItIsRequired()
    {
        var ex = Assert.Throws<StartupException>(() => Resolve(new DatabaseOptions { Provider = "PostgreSQL" }));

        Assert.StartsWith("Database:ConnectionString is required for PostgreSQL", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PostgreSQL", "Hots=db;Database=x", "is not a valid PostgreSQL connection string")]
    [InlineData("Sqlite", "Data Sorce=x.db", "is not a valid SQLite connection string")]
    public void Resolve_BadConnectionString_SaysWhichKeyIsWrong(string provider, string connectionString, string expected)
    {
        var ex = Assert.Throws<StartupException>(() => Resolve(new DatabaseOptions { Provider = provider, ConnectionString = connectionString }));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_Postgres_LeavesOutThePassword()
    {
        var resolved = Resolve(new DatabaseOptions { Provider = "postgres", ConnectionString = "Host=db.internal;Port=5433;Database=pw;Username=u;Password=hunter2" });

        Assert.Equal("PostgreSQL db.internal:5433/pw", resolved.Describe());
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private sealed class TestEnvironment(string contentRoot) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Testing";
        public string ApplicationName { get; set; } = "PortWatch.Web";
        public string ContentRootPath { get; set; } = contentRoot;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
