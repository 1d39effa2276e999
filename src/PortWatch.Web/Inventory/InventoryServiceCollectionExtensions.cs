using PortWatch.Web.Alerts;
using PortWatch.Web.Inventory.Sources;

namespace PortWatch.Web.Inventory;

public static class InventoryServiceCollectionExtensions
{
    /// <summary>The asset inventory (manual entries, imports, bulk upserts) and the asset sources it pulls from.</summary>
    public static WebApplicationBuilder AddPortWatchInventory(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<AssetService>();
        services.AddSingleton<SourceSecretProtector>();
        services.AddSingleton<IHostResolver, SystemHostResolver>();
        services.AddSingleton<IAssetSourceReader, HttpInventoryReader>();
        services.AddSingleton<IAssetSourceReader, AwsReader>();
        services.AddSingleton<IAssetSourceReader, DnsNamesReader>();
        services.AddSingleton<AssetSourceSyncService>();
        services.AddSingleton<AssetSourceScheduler>();
        services.AddScoped<AssetSourceService>();
        services.AddTransient<AssetSourceJob>();
        services.AddHostedService<AssetSourceStartup>();
        // An inventory URL is an admin's, but it goes through the same address policy as webhooks: an internal address must be
        // listed in Alerts:AllowedWebhookHosts, so a source cannot be turned into a way to read the dashboard's own network.
        services.AddHttpClient(HttpInventoryReader.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(60))
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                ConnectCallback = sp.GetRequiredService<WebhookAddressPolicy>().ConnectAsync,
                AllowAutoRedirect = false,
                UseProxy = false,
            });
        return builder;
    }
}
