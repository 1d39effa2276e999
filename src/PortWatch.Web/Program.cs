using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PortWatch.Web;
using PortWatch.Web.Alerts;
using PortWatch.Web.Imports;
using PortWatch.Web.Inventory;
using PortWatch.Web.Metrics;
using PortWatch.Web.Api;
using PortWatch.Web.Components;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Flows;
using PortWatch.Web.Http;
using PortWatch.Web.Identity;
using PortWatch.Web.Scans;
using PortWatch.Web.Sentinel;
using PortWatch.Web.Schedules;
using PortWatch.Web.Tickets;
using PortWatch.Web.Triage;
using Radzen;

WebApplication app;
try
{
    var builder = WebApplication.CreateBuilder(args);
    // Package assets (_content/...) from the build output when run with 'dotnet run' in any environment; a no-op once published.
    builder.WebHost.UseStaticWebAssets();
    builder.AddPortWatchHttp();
    builder.AddPortWatchData();
    builder.AddPortWatchIdentity();
    builder.AddPortWatchScans();
    builder.AddPortWatchSchedules();
    builder.AddPortWatchTriage();
    builder.AddPortWatchTickets();
    builder.AddPortWatchFlows();
    builder.AddPortWatchSentinel();
    builder.AddPortWatchAlerts();
    builder.AddPortWatchImports();
    builder.AddPortWatchInventory();
    builder.AddPortWatchApi();
    builder.AddPortWatchMetrics();
    builder.Services.AddRazorComponents().AddInteractiveServerComponents();
    builder.Services.AddRadzenComponents();
    // The light or dark choice is kept in a cookie, so it survives a reload and a new sign-in on the same browser.
    builder.Services.AddRadzenCookieThemeService(options =>
    {
        options.Name = "PortWatchTheme";
        options.Duration = TimeSpan.FromDays(365);
    });
    builder.Services.AddSingleton(TimeProvider.System);
    app = builder.Build();
    await app.InitializePortWatchDatabaseAsync();
}
catch (StartupException ex)
{
    StartupReport.Fail(ex);
    return 1;
}
catch (OptionsValidationException ex)
{
    StartupReport.Fail(ex);
    return 1;
}

app.UsePortWatchHttpFront();
if (!app.Environment.IsDevelopment())
    app.UseExceptionHandler("/error", createScopeForErrors: true);
// A page address nothing answers gets PortWatch's own page instead of the browser's bare one. The API keeps its problem
// details (Api/), and the metrics, health and account endpoints their own answers (a 401 there is no missing page).
app.UseWhen(context => !(context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/metrics")
        || context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/account")),
    branch => branch.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
app.UseRouting(); // after the status code pages, so a re-executed request finds the not-found page's endpoint
app.UseRateLimiter();
app.UseAuthentication();
app.UseMiddleware<CrossSiteRequestGuard>();
app.UseAuthorization();
app.UseAntiforgery();
app.MapStaticAssets().AllowAnonymous();
app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync }).AllowAnonymous();
app.MapAccountEndpoints();
app.MapPortWatchApi();
app.MapPortWatchMetrics();
// The frame-ancestors rule is part of PortWatch's own policy (Http/SecurityHeaders), on every path.
app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
app.Lifetime.ApplicationStarted.Register(() => StartupReport.Ready(app));
try
{
    await app.RunAsync();
}
catch (OptionsValidationException ex)
{
    StartupReport.Fail(ex);
    return 1;
}
catch (AggregateException ex) when (StartupReport.TryFail(ex))
{
    return 1;
}
return 0;

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
