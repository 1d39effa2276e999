using PortWatch.Web.Configuration;

namespace PortWatch.Web.Triage;

public static class TriageServiceCollectionExtensions
{
    /// <summary>Findings from runs, analysts' triage, exceptions, the risk catalogue and their upkeep.</summary>
    public static WebApplicationBuilder AddPortWatchTriage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<TriageOptions>(builder.Configuration, TriageOptions.Section);
        services.AddSingleton<RunTriageService>();
        services.AddScoped<FindingTriageService>();
        services.AddScoped<AssignmentNotifier>();
        services.AddScoped<ExceptionRuleService>();
        services.AddScoped<RiskCatalogueService>();
        services.AddHostedService<TriageMaintenance>();
        services.AddSingleton<TrendRefresher>();
        services.AddHostedService(sp => sp.GetRequiredService<TrendRefresher>());
        return builder;
    }
}
