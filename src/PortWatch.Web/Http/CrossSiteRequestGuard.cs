using Microsoft.AspNetCore.Antiforgery;
using PortWatch.Web.Api;

namespace PortWatch.Web.Http;

/// <summary>
/// Cross-site request forgery on the API. A browser sends the sign-in cookie along with a form or
/// a text/plain post from any page on the web, without asking first, so a cookie-authenticated
/// change on /api must prove it came from the dashboard: the request carries the
/// <see cref="HeaderName"/> header (or an antiforgery token), which another site cannot add without
/// a CORS preflight that PortWatch never grants, and its Origin (or, lacking that, its Referer) is
/// this site. Reads are not checked; calls with an API token (Authorization: Bearer) carry no
/// ambient credential and are not checked either.
/// </summary>
public sealed class CrossSiteRequestGuard(RequestDelegate next)
{
    public const string HeaderName = "X-PortWatch-Request";

    public async Task InvokeAsync(HttpContext context, IAntiforgery antiforgery)
    {
        var request = context.Request;
        if (!request.Path.StartsWithSegments("/api") || IsSafe(request.Method) || ApiTokenAuthenticationHandler.HasBearer(context)
            || !request.Cookies.Keys.Any(k => k.StartsWith(Identity.IdentityServiceCollectionExtensions.CookieName, StringComparison.Ordinal)))
        {
            await next(context);
            return;
        }
        if ((Refusal(request) ?? await TokenRefusalAsync(context, antiforgery)) is { } reason)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await Results.Problem(statusCode: 403, title: "Cross-site request refused", detail: reason).ExecuteAsync(context);
            return;
        }
        await next(context);
    }

    private static bool IsSafe(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    /// <returns>Null when the request's origin is this site.</returns>
    private static string? Refusal(HttpRequest request)
    {
        var self = $"{request.Scheme}://{request.Host}";
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
            return string.Equals(origin, self, StringComparison.OrdinalIgnoreCase) ? null : $"the request comes from {Shorten(origin)}, not from {self}";
        var referer = request.Headers.Referer.ToString();
        if (referer.Length > 0)
            return Uri.TryCreate(referer, UriKind.Absolute, out var uri) && string.Equals($"{uri.Scheme}://{uri.Authority}", self, StringComparison.OrdinalIgnoreCase)
                ? null
                : "the request's Referer is another site";
        return $"a change made with the sign-in cookie needs an Origin or Referer header of this site ({self})";
    }

    /// <returns>Null when the request carries the custom header or a valid antiforgery token.</returns>
    private static async Task<string?> TokenRefusalAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (context.Request.Headers.ContainsKey(HeaderName))
            return null;
        return await antiforgery.IsRequestValidAsync(context)
            ? null
            : $"a change made with the sign-in cookie needs the {HeaderName} header or an antiforgery token; programs should use an API token";
    }

    private static string Shorten(string text) => Scanning.SafeText.ForTerminal(text, 100);
}
