using System.Globalization;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Http;

/// <summary>
/// Checks the addresses the dashboard is told to listen on (Urls, --urls, ASPNETCORE_URLS) before
/// Kestrel reads them: Kestrel takes "http://127.0.0.1:notaport" for a host name and listens on
/// every interface at port 80, which is the opposite of what the operator asked for.
/// </summary>
public static class ListenUrls
{
    /// <exception cref="StartupException">naming the first bad address.</exception>
    public static void Validate(IConfiguration configuration)
    {
        var urls = configuration["urls"];
        if (string.IsNullOrWhiteSpace(urls))
            return;
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Error(url) is { } error)
                throw new StartupException($"Urls: '{Scanning.SafeText.ForTerminal(url, 200)}' is not an address to listen on: {error}. Use e.g. http://127.0.0.1:5080 or http://*:5080.");
        }
    }

    /// <returns>Null for "http(s)://host[:port][/]" with a host of *, +, an address or a name and a port of 0-65535.</returns>
    public static string? Error(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
            return "it has no scheme (http:// or https://)";
        var scheme = url[..schemeEnd];
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
            return $"the scheme '{scheme}' is not http or https";
        var authority = url[(schemeEnd + 3)..];
        var slash = authority.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
            authority = authority[..slash];
        string host;
        string? port = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
                return "the IPv6 address has no closing ']'";
            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (!after.StartsWith(':'))
                    return "text follows the IPv6 address";
                port = after[1..];
            }
            if (!System.Net.IPAddress.TryParse(host, out _))
                return $"'{host}' is not an IPv6 address";
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            port = colon < 0 ? null : authority[(colon + 1)..];
            if (host.Length == 0)
                return "the host is empty";
            if (host is not "*" and not "+" && Uri.CheckHostName(host) == UriHostNameType.Unknown)
                return $"'{host}' is not a host name or address";
        }
        if (port is not null && (port.Length == 0 || port.Length > 5 || !port.All(char.IsAsciiDigit)
            || int.Parse(port, CultureInfo.InvariantCulture) > 65535))
            return $"the port '{port}' is not a number from 0 to 65535";
        return null;
    }
}
