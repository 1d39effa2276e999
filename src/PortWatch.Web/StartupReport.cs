using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;

namespace PortWatch.Web;

/// <summary>What an operator sees in the terminal when PortWatch starts or refuses to.</summary>
public static class StartupReport
{
    /// <summary>One line on standard error, nothing else: the operator needs the reason, not a stack trace.</summary>
    public static void Fail(StartupException ex) => Console.Error.WriteLine($"PortWatch cannot start: {ex.Message}");

    /// <summary>One line per bad setting, each naming the setting (the options classes' messages do).</summary>
    public static void Fail(Microsoft.Extensions.Options.OptionsValidationException ex)
    {
        foreach (var failure in ex.Failures)
            Console.Error.WriteLine($"PortWatch cannot start: {failure}");
    }

    /// <summary>Several options classes failed at once (the host validates them together at start).</summary>
    public static bool TryFail(AggregateException ex)
    {
        var failures = ex.Flatten().InnerExceptions.OfType<Microsoft.Extensions.Options.OptionsValidationException>().ToList();
        if (failures.Count == 0 || failures.Count != ex.Flatten().InnerExceptions.Count)
            return false;
        foreach (var failure in failures)
            Fail(failure);
        return true;
    }

    public static void Ready(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var database = app.Services.GetRequiredService<ResolvedDatabase>();
        var admin = app.Services.GetRequiredService<IOptions<AdminOptions>>().Value;
        foreach (var address in addresses)
            app.Logger.LogInformation("PortWatch dashboard: {Url}", address);
        app.Logger.LogInformation(
            "Database: {Database}. Sign in as '{Admin}' with the password from Admin:Password, or the one logged at the first start.",
            database.Describe(), admin.UserName);
        if (string.IsNullOrWhiteSpace(app.Services.GetRequiredService<IOptions<AlertOptions>>().Value.DashboardUrl))
            app.Logger.LogWarning(
                "Alerts:DashboardUrl is not set, so alerts, tickets and assignment mails carry no link to the dashboard. Set it to the address analysts open (e.g. https://portwatch.example.com).");
    }
}
