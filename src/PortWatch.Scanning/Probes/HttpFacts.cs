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
        Match status;
        try
        {
            status = StatusLine().Match(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return null; // anchored and tiny: only a stalled process gets here, and then it is no verdict
        }
        if (!status.Success)
            return null;
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = headerEnd < 0 ? text : text[..headerEnd];
        var body = headerEnd < 0 ? "" : text[(headerEnd + 4)..];
        var title = FirstTitle(body);
        return new HttpFacts(
            int.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture),
            Bound(Header(headers, "Server")),
            title is null ? null : Bound(Normalize(WebUtility.HtmlDecode(title))),
            Bound(Header(headers, "Location")));
    }

    /// <summary>
    /// The first title element's text, found with plain searches: linear in the body, whatever it holds. (A regex with a
    /// lazy group backtracks from every "&lt;title" of a body that never closes one: a scanned host chose the body.)
    /// </summary>
    private static string? FirstTitle(string body)
    {
        var open = body.IndexOf("<title", StringComparison.OrdinalIgnoreCase);
        if (open < 0)
            return null;
        var start = body.IndexOf('>', open + 6);
        if (start < 0)
            return null;
        var end = body.IndexOf("</title", start + 1, StringComparison.OrdinalIgnoreCase);
        if (end < 0)
            return null;
        // Enough for the bounded field even after entities and whitespace are folded.
        return body.Substring(start + 1, Math.Min(end - start - 1, MaxFieldLength * 8));
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

    /// <summary>Runs of whitespace folded to one space, trimmed: one pass, no regex (and so no timeout to throw).</summary>
    private static string Normalize(string text)
    {
        var folded = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = folded.Length > 0;
                continue;
            }
            if (space)
                folded.Append(' ');
            space = false;
            folded.Append(c);
        }
        return folded.ToString();
    }

    private static string? Bound(string? text) =>
        string.IsNullOrEmpty(text) ? null : text.Length <= MaxFieldLength ? text : text[..MaxFieldLength];

    [GeneratedRegex(@"^HTTP/\d(?:\.\d)? (\d{3})", RegexOptions.CultureInvariant, 100)]
    private static partial Regex StatusLine();

}
