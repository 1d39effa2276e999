namespace PortWatch.Web.Inventory;

public static class InventoryServiceCollectionExtensions
{
    /// <summary>The asset inventory (manual entries, imports, bulk upserts).</summary>
    public static WebApplicationBuilder AddPortWatchInventory(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<AssetService>();
        return builder;
    }
}
