using PortWatch.Web.Configuration;

namespace PortWatch.Web.Sentinel;

public static class SentinelServiceCollectionExtensions
{
    /// <summary>The sentinel tier: passes over the high-risk catalogue's ports, and coverage recovery of lost hosts.</summary>
    public static WebApplicationBuilder AddPortWatchSentinel(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<SentinelOptions>(builder.Configuration, SentinelOptions.Section);
        services.AddSingleton<SentinelPasses>();
        services.AddSingleton<CoverageRecovery>();
        services.AddTransient<SentinelPassJob>();
        services.AddTransient<CoverageRecoveryJob>();
        services.AddHostedService<SentinelScheduler>();
        return builder;
    }
}
