using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace PortWatch.Scanning.Probes;

/// <summary>Status, Server header, page title and redirect target from an HTTP response (all attacker-controlled text).</summary>
public sealed partial record HttpFacts(int Status, string? Server, string? Title, string? RedirectTo)
{
    public const int MaxFieldLength = 500;

    public static HttpFacts? TryParse(ReadOnlySpan<byte> response)
    {
        var text = Encoding.Latin1.GetString(response);
        var status = StatusLine().Match(text);
        if (!status.Success)
            return null;
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = headerEnd < 0 ? text : text[..headerEnd];
        var body = headerEnd < 0 ? "" : text[(headerEnd + 4)..];
        var title = TitleElement().Match(body);
        return new HttpFacts(
            int.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture),
            Bound(Header(headers, "Server")),
            title.Success ? Bound(Normalize(WebUtility.HtmlDecode(title.Groups[1].Value))) : null,
            Bound(Header(headers, "Location")));
    }

    private static string? Header(string headers, string name)
    {
        foreach (var line in headers.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                return line[(colon + 1)..].Trim();
        }
        return null;
    }

    private static string Normalize(string text) => Whitespace().Replace(text, " ").Trim();

    private static string? Bound(string? text) =>
        string.IsNullOrEmpty(text) ? null : text.Length <= MaxFieldLength ? text : text[..MaxFieldLength];

    [GeneratedRegex(@"^HTTP/\d(?:\.\d)? (\d{3})", RegexOptions.CultureInvariant, 100)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"<title[^>]*>(.*?)</title>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant, 100)]
    private static partial Regex TitleElement();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant, 100)]
    private static partial Regex Whitespace();
}
