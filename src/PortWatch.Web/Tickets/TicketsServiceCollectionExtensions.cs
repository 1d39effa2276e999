using PortWatch.Web.Configuration;

namespace PortWatch.Web.Tickets;

public static class TicketsServiceCollectionExtensions
{
    /// <summary>"Create ticket": findings sent to Jira or a ticket webhook, the link kept on each finding.</summary>
    public static WebApplicationBuilder AddPortWatchTickets(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<TicketOptions>(builder.Configuration, TicketOptions.Section);
        services.AddScoped<TicketService>();
        services.AddSingleton<JiraClient>();
        services.AddSingleton<TicketWebhookClient>();
        // Redirects are not followed: a POST that is redirected would be re-sent somewhere nobody configured.
        services.AddHttpClient(TicketService.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        return builder;
    }
}
