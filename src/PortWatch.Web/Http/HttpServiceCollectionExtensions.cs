using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Http;

/// <summary>The HTTP front: listen addresses, reverse proxies, HSTS, security headers and the API's cross-site guard.</summary>
public static class HttpServiceCollectionExtensions
{
    public static WebApplicationBuilder AddPortWatchHttp(this WebApplicationBuilder builder)
    {
        ListenUrls.Validate(builder.Configuration);
        var section = builder.Configuration.GetSection(HttpSecurityOptions.Section);
        builder.Services.AddValidatedOptions<HttpSecurityOptions>(builder.Configuration, HttpSecurityOptions.Section);
        var settings = section.Get<HttpSecurityOptions>() ?? new HttpSecurityOptions();
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the proxies the operator names are believed; the framework's default (loopback) is not assumed.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in settings.KnownProxies)
                options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address) ? address : throw new StartupException($"Http:KnownProxies: '{proxy}' is not an IP address."));
            foreach (var network in settings.KnownNetworks)
                options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed) ? parsed : throw new StartupException($"Http:KnownNetworks: '{network}' is not a network in CIDR form (e.g. 10.0.0.0/8)."));
        });
        builder.Services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(settings.HstsDays));
        builder.Services.AddAntiforgery(options => options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        return builder;
    }

    /// <summary>First in the pipeline: the real client and scheme, then the headers every response carries.</summary>
    public static WebApplication UsePortWatchHttpFront(this WebApplication app)
    {
        var settings = app.Configuration.GetSection(HttpSecurityOptions.Section).Get<HttpSecurityOptions>() ?? new HttpSecurityOptions();
        if (settings.KnownProxies.Count > 0 || settings.KnownNetworks.Count > 0)
            app.UseForwardedHeaders();
        if (!app.Environment.IsDevelopment())
            app.UseHsts(); // sent on HTTPS responses only
        app.UseSecurityHeaders();
        return app;
    }
}
