using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Data;

public static class DataServiceCollectionExtensions
{
    /// <summary>Options sections, the checked database settings and the context factory for the configured provider.</summary>
    public static WebApplicationBuilder AddPortWatchData(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<PortWatchOptions>(builder.Configuration, PortWatchOptions.Section);
        services.AddValidatedOptions<DatabaseOptions>(builder.Configuration, DatabaseOptions.Section);
        services.AddValidatedOptions<AdminOptions>(builder.Configuration, AdminOptions.Section);
        services.AddSingleton<ResolvedDatabase>();
        services.AddSingleton<DatabaseWriteHealth>();

        // Sign-in cookies are encrypted with these keys. SQLite (one node): in the data directory, so they survive restarts
        // and container rebuilds. PostgreSQL (perhaps a cluster): in the shared database, so a cookie from one node works on all.
        services.AddDataProtection().SetApplicationName("PortWatch");
        services.AddOptions<KeyManagementOptions>().Configure<ResolvedDatabase, ILoggerFactory, IServiceProvider>((options, database, loggers, provider) =>
            options.XmlRepository = database.Provider == DatabaseProvider.Sqlite
                ? new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(database.DataDirectory, "keys")), loggers)
                : new EntityFrameworkCoreXmlRepository<PortWatchDbContext>(provider, loggers));

        services.AddDbContextFactory<PortWatchDbContext, PortWatchDbContextFactory>((sp, options) =>
        {
            var database = sp.GetRequiredService<ResolvedDatabase>();
            Configure(options, database);
        });
        // Identity's stores and request-scoped code take the context from DI; components use the factory.
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<PortWatchDbContext>>().CreateDbContext());
        services.AddScoped<DatabaseInitializer>();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    public static void Configure(DbContextOptionsBuilder options, ResolvedDatabase database)
    {
        if (database.Provider == DatabaseProvider.Sqlite)
            options.UseSqlite(database.ConnectionString, o => o.MigrationsHistoryTable("__EFMigrationsHistory"));
        else
            options.UseNpgsql(database.ConnectionString);
    }

    /// <summary>Migrates, seeds and creates the first administrator. Any failure is a <see cref="StartupException"/>.</summary>
    public static async Task InitializePortWatchDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DatabaseInitializer>().InitializeAsync(app.Lifetime.ApplicationStopping);
    }
}

/// <summary>Creates the provider-specific context, whose migrations match the configured database.</summary>
public sealed class PortWatchDbContextFactory(DbContextOptions<PortWatchDbContext> options, ResolvedDatabase database)
    : IDbContextFactory<PortWatchDbContext>
{
    public PortWatchDbContext CreateDbContext() => database.Provider == DatabaseProvider.Sqlite
        ? new SqlitePortWatchDbContext(options)
        : new PostgresPortWatchDbContext(options);
}
