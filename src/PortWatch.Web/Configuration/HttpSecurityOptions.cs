using System.ComponentModel.DataAnnotations;

namespace PortWatch.Web.Configuration;

/// <summary>Section "Http": running behind a TLS-terminating reverse proxy.</summary>
public sealed class HttpSecurityOptions
{
    public const string Section = "Http";

    /// <summary>
    /// Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers are believed
    /// (so that behind a TLS proxy the cookie is Secure, links are https and throttling sees the real client).
    /// Empty: the headers are ignored.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR) of such proxies.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>HSTS max-age in days, sent on HTTPS responses.</summary>
    [Range(0, 3650, ErrorMessage = "Http:HstsDays must be 0 to 3650 (default 180).")]
    public int HstsDays { get; set; } = 180;
}
