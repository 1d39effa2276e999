using System.Net.Http.Json;
using PortWatch.Web.Http;

namespace PortWatch.Web.Tests.Security;

/// <summary>API calls as the dashboard's own pages make them with the sign-in cookie: same origin, with the guard's header.</summary>
internal static class DashboardRequests
{
    public const string Origin = "http://localhost";

    public static HttpRequestMessage SameSite(HttpMethod method, string path, object? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Origin", Origin);
        request.Headers.Add(CrossSiteRequestGuard.HeaderName, "1");
        if (json is not null)
            request.Content = JsonContent.Create(json);
        return request;
    }

    /// <summary>A harmless change only Analysts and Admins may make: a new scan profile (201).</summary>
    public static HttpRequestMessage ProfileChange() => SameSite(HttpMethod.Post, "/api/v1/profiles", new { name = $"probe-{Guid.NewGuid():N}", tcpPorts = "80" });
}
