using PortWatch.Web.Configuration;
using Quartz;
using Quartz.Impl.AdoJobStore;
using Quartz.Impl.AdoJobStore.Common;

namespace PortWatch.Web.Scans;

public static class ScansServiceCollectionExtensions
{
    /// <summary>
    /// Scan runs: queue, coordinator, shard runner, finaliser, supervision, and Quartz with its
    /// persistent store in PortWatch's own database (schema created when missing): SQLite by
    /// default; PostgreSQL with clustering, so several nodes share the runs.
    /// </summary>
    public static WebApplicationBuilder AddPortWatchScans(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ScanningOptions>(builder.Configuration, ScanningOptions.Section);
        services.AddSingleton<ScanProgressNotifier>();
        services.AddSingleton<RunProgressReader>();
        services.AddSingleton<RateBudget>();
        services.AddSingleton<ProbeDatabaseCache>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<RunPlanner>();
        services.AddScoped<RunCoordinator>();
        services.AddScoped<ShardRunner>();
        services.AddScoped<RunFinalizer>();
        services.AddSingleton<ScanQueue>();
        services.AddHostedService<InterruptedRunResumer>();
        services.AddSingleton<RunSupervisor>();
        services.AddHostedService(sp => sp.GetRequiredService<RunSupervisor>());
        services.AddSingleton<ScannerAddresses>();
        services.AddSingleton<ScanScope>();

        // The store's kind must be known while registering; an unknown provider is reported at start-up by ResolvedDatabase.
        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var postgres = database.TryParseProvider(out var provider) && provider == DatabaseProvider.PostgreSQL;
        var maxConcurrentScans = builder.Configuration.GetValue(ScanningOptions.Section + ":" + nameof(ScanningOptions.MaxConcurrentScans), 2);
        builder.AddQuartz(q =>
        {
            q.UseDefaultThreadPool(maxConcurrency: Math.Clamp(maxConcurrentScans, 1, 64));
            q.UsePersistentStore(store =>
            {
                // A dead node's recovered job keeps its original fire time; within this threshold it fires at once,
                // instead of counting as misfired and waiting for the misfire pass (up to a minute, behind fresh work).
                store.ConfigureStore(o => o.MisfireThreshold = TimeSpan.FromHours(1));
                // The connection string is the checked one (ResolvedDatabase), known only once the host runs.
                store.UseConnectionProvider(sp => new DbProvider(postgres ? "Npgsql" : "SQLite-Microsoft", sp.GetRequiredService<ResolvedDatabase>().ConnectionString));
                if (postgres)
                {
                    store.UseDriverDelegate<PostgreSQLDelegate>();
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = TimeSpan.FromSeconds(5);
                        c.CheckinMisfireThreshold = TimeSpan.FromSeconds(10);
                    });
                }
                else
                {
                    store.UseDriverDelegate<SQLiteDelegate>();
                }
                store.UseSystemTextJsonSerializer();
                store.ProvisionSchema();
            });
        });
        builder.AddQuartzHostedService(options => options.WaitForJobsToComplete = false);
        return builder;
    }
}
