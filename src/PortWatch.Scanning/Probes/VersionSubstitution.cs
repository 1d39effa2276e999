using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PortWatch.Scanning.Probes;

/// <summary>Fills a match's version template from the regex groups: $1..$9, $P(n), $SUBST(n,"a","b"), $I(n,"&gt;").</summary>
public static partial class VersionSubstitution
{
    public static string? Apply(string? template, Match match)
    {
        if (template is null)
            return null;
        var result = Helpers().Replace(template, m => m.Groups["fn"].Value switch
        {
            "P" => Printable(Group(match, m.Groups["n"].Value)),
            "SUBST" => Group(match, m.Groups["n"].Value).Replace(Unquote(m.Groups["a"].Value), Unquote(m.Groups["b"].Value), StringComparison.Ordinal),
            "I" => UnpackInteger(Group(match, m.Groups["n"].Value), Unquote(m.Groups["a"].Value)),
            _ => m.Value,
        });
        result = Plain().Replace(result, m => Group(match, m.Groups[1].Value));
        result = result.Trim();
        return result.Length == 0 ? null : result;
    }

    private static string Group(Match match, string number) =>
        int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < match.Groups.Count ? match.Groups[n].Value : "";

    /// <summary>Only printable ASCII, as nmap's $P() does for UTF-16 and binary fields.</summary>
    private static string Printable(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is >= ' ' and <= '~')
                builder.Append(c);
        }
        return builder.ToString();
    }

    private static string UnpackInteger(string bytes, string endianness)
    {
        if (bytes.Length is 0 or > 8)
            return "";
        ulong value = 0;
        var ordered = endianness == "<" ? bytes.Reverse() : bytes;
        foreach (var c in ordered)
            value = (value << 8) | (byte)c;
        return value.ToString(CultureInfo.InvariantCulture);
    }

    private static string Unquote(string quoted) =>
        quoted.Length >= 2 && quoted[0] == '"' && quoted[^1] == '"' ? quoted[1..^1] : quoted;

    [GeneratedRegex("""\$(?<fn>P|SUBST|I)\((?<n>\d)(?:,(?<a>"[^"]*"))?(?:,(?<b>"[^"]*"))?\)""")]
    private static partial Regex Helpers();

    [GeneratedRegex(@"\$(\d)")]
    private static partial Regex Plain();
}
