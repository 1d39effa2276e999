using PortWatch.Web.Configuration;

namespace PortWatch.Web.Imports;

public static class ImportsServiceCollectionExtensions
{
    /// <summary>Nmap and masscan files brought in as runs.</summary>
    public static WebApplicationBuilder AddPortWatchImports(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ImportOptions>(builder.Configuration, ImportOptions.Section);
        builder.Services.AddScoped<ScanImportService>();
        return builder;
    }
}
