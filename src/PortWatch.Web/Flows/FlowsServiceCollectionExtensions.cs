using PortWatch.Web.Configuration;

namespace PortWatch.Web.Flows;

public static class FlowsServiceCollectionExtensions
{
    /// <summary>The NetFlow/IPFIX collector and the checks it triggers (off unless Flows:Enabled).</summary>
    public static WebApplicationBuilder AddPortWatchFlows(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<FlowsOptions>(builder.Configuration, FlowsOptions.Section);
        services.AddSingleton<FlowStatistics>();
        services.AddSingleton<FlowCheckQueue>();
        services.AddSingleton<FlowCollector>();
        services.AddHostedService(sp => sp.GetRequiredService<FlowCollector>());
        services.AddSingleton<FlowChecker>();
        services.AddHostedService(sp => sp.GetRequiredService<FlowChecker>());
        return builder;
    }
}
