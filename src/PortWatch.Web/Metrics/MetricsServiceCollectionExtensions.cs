using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using PortWatch.Web.Configuration;
using PortWatch.Web.Scans;

namespace PortWatch.Web.Metrics;

public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Prometheus metrics through OpenTelemetry's exporter over System.Diagnostics.Metrics:
    /// PortWatch's own meter (<see cref="PortWatchMetrics"/>) and ASP.NET Core's. Served at /metrics
    /// on the dashboard's port to signed-in users and API tokens, and, when Metrics:Port is set,
    /// without sign-in on that port only (a small HTTP listener of its own).
    /// </summary>
    public static WebApplicationBuilder AddPortWatchMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<MetricsOptions>(builder.Configuration, MetricsOptions.Section);
        // What to serve must be known while registering; the validated options check the same values at start.
        var settings = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        if (!settings.Enabled)
            return builder;
        builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(PortWatchMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel");
            metrics.AddPrometheusExporter();
            if (settings.Port is > 0 and <= 65535)
            {
                metrics.AddPrometheusHttpListener(o =>
                {
                    o.Host = settings.Host;
                    o.Port = settings.Port;
                    o.ScrapeEndpointPath = "/metrics";
                });
            }
        });
        return builder;
    }

    public static WebApplication MapPortWatchMetrics(this WebApplication app)
    {
        PortWatchMetrics.UseRate(app.Services.GetRequiredService<ScanProgressNotifier>().LocalPacketRate);
        if (app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.Enabled)
            app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization();
        return app;
    }
}
