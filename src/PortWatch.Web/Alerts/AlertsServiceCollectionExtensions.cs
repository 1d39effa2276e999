using PortWatch.Web.Configuration;

namespace PortWatch.Web.Alerts;

public static class AlertsServiceCollectionExtensions
{
    /// <summary>Alert channels, the re-check before alerting, digests and their delivery (webhooks through the address policy, e-mail).</summary>
    public static WebApplicationBuilder AddPortWatchAlerts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<AlertOptions>(builder.Configuration, AlertOptions.Section);
        services.AddValidatedOptions<SmtpOptions>(builder.Configuration, SmtpOptions.Section);
        services.AddScoped<AlertChannelService>();
        services.AddSingleton<PortRechecker>();
        services.AddSingleton<AlertSender>();
        services.AddSingleton<AlertService>();
        services.AddSingleton<WebhookAddressPolicy>();
        services.AddHttpClient(AlertSender.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15))
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // Every connection goes through the address policy (after DNS); a redirect could lead anywhere, so none is followed.
                ConnectCallback = sp.GetRequiredService<WebhookAddressPolicy>().ConnectAsync,
                AllowAutoRedirect = false,
                UseProxy = false,
            });
        return builder;
    }
}
