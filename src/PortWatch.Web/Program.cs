using PortWatch.Web;
using PortWatch.Web.Api;
using PortWatch.Web.Components;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Identity;
using PortWatch.Web.Jobs;
using Radzen;

var builder = WebApplication.CreateBuilder(args);
builder.AddPortWatchData();
builder.AddPortWatchIdentity();
builder.AddPortWatchJobs();
builder.AddPortWatchApi();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddRadzenComponents();
builder.Services.AddSingleton(TimeProvider.System);

var app = builder.Build();
try
{
    await app.InitializePortWatchDatabaseAsync();
}
catch (StartupException ex)
{
    StartupReport.Fail(ex);
    return 1;
}

if (!app.Environment.IsDevelopment())
    app.UseExceptionHandler("/error", createScopeForErrors: true);
app.UseAntiforgery();
app.MapStaticAssets().AllowAnonymous();
app.MapHealthChecks("/health").AllowAnonymous();
app.MapAccountEndpoints();
app.MapPortWatchApi();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.Lifetime.ApplicationStarted.Register(() => StartupReport.Ready(app));
await app.RunAsync();
return 0;

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
