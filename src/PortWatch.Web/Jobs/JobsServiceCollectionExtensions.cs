using PortWatch.Web.Alerts;
using PortWatch.Web.Configuration;
using PortWatch.Web.Triage;
using Quartz;
using Quartz.Impl.AdoJobStore;
using Quartz.Impl.AdoJobStore.Common;

namespace PortWatch.Web.Jobs;

public static class JobsServiceCollectionExtensions
{
    /// <summary>
    /// Quartz with its persistent store in PortWatch's own database (schema created when missing):
    /// SQLite by default; PostgreSQL with clustering, so several nodes share the runs.
    /// </summary>
    public static WebApplicationBuilder AddPortWatchJobs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<ScanningOptions>(builder.Configuration.GetSection(ScanningOptions.Section));
        services.AddSingleton<ScanProgressNotifier>();
        services.AddSingleton<RateBudget>();
        services.AddSingleton<ProbeDatabaseCache>();
        services.AddScoped<ScanPipeline>();
        services.AddSingleton<ScanQueue>();
        services.AddSingleton<ScheduleSynchronizer>();
        services.AddHostedService<InterruptedRunResumer>();
        services.AddSingleton<ScannerAddresses>();
        services.AddSingleton<ScanScope>();
        services.AddScoped<ScheduleService>();

        services.Configure<TriageOptions>(builder.Configuration.GetSection(TriageOptions.Section));
        services.Configure<AlertOptions>(builder.Configuration.GetSection(AlertOptions.Section));
        services.Configure<SmtpOptions>(builder.Configuration.GetSection(SmtpOptions.Section));
        services.Configure<ImportOptions>(builder.Configuration.GetSection(ImportOptions.Section));
        services.AddScoped<Imports.ScanImportService>();
        services.AddSingleton<RunTriageService>();
        services.AddScoped<FindingTriageService>();
        services.AddScoped<Inventory.AssetService>();
        services.AddScoped<ExceptionRuleService>();
        services.AddScoped<RiskCatalogueService>();
        services.AddScoped<AlertChannelService>();
        services.AddSingleton<PortRechecker>();
        services.AddSingleton<AlertSender>();
        services.AddSingleton<AlertService>();
        services.AddHostedService<TriageMaintenance>();
        services.AddSingleton<WebhookAddressPolicy>();
        services.AddHttpClient(AlertSender.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15))
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // Every connection goes through the address policy (after DNS); a redirect could lead anywhere, so none is followed.
                ConnectCallback = sp.GetRequiredService<WebhookAddressPolicy>().ConnectAsync,
                AllowAutoRedirect = false,
                UseProxy = false,
            });

        // The store's kind must be known while registering; an unknown provider is reported at start-up by ResolvedDatabase.
        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var postgres = database.TryParseProvider(out var provider) && provider == DatabaseProvider.PostgreSQL;
        var maxConcurrentScans = builder.Configuration.GetValue(ScanningOptions.Section + ":" + nameof(ScanningOptions.MaxConcurrentScans), 2);
        builder.AddQuartz(q =>
        {
            q.UseDefaultThreadPool(maxConcurrency: Math.Max(1, maxConcurrentScans));
            q.UsePersistentStore(store =>
            {
                // The connection string is the checked one (ResolvedDatabase), known only once the host runs.
                store.UseConnectionProvider(sp => new DbProvider(postgres ? "Npgsql" : "SQLite-Microsoft", sp.GetRequiredService<ResolvedDatabase>().ConnectionString));
                if (postgres)
                {
                    store.UseDriverDelegate<PostgreSQLDelegate>();
                    store.UseClustering(c => c.CheckinInterval = TimeSpan.FromSeconds(10));
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
