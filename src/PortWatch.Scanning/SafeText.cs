using System.Globalization;
using System.Text;

namespace PortWatch.Scanning;

/// <summary>
/// Scanned text (banners, titles, certificate names) is chosen by whoever runs the target.
/// On a terminal, control characters could move the cursor or rewrite earlier output, so they
/// are shown as \xHH escapes, and long text is cut.
/// </summary>
public static class SafeText
{
    public static string ForTerminal(string? text, int maxLength = 200)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var builder = new StringBuilder(Math.Min(text.Length, maxLength) + 8);
        foreach (var c in text)
        {
            if (builder.Length >= maxLength)
            {
                builder.Append('…');
                break;
            }
            if (c == '\\')
                builder.Append(@"\\"); // so a literal "\x1b" in a banner cannot pass for an escape we wrote
            else if (c is >= ' ' and <= '~' || (c > 0xA0 && !char.IsControl(c) && c != '\u2028' && c != '\u2029' && !IsBidiControl(c)))
                builder.Append(c);
            else
                builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
        }
        return builder.ToString();
    }

    /// <summary>Bidirectional overrides reorder what a reader sees ("Trojan Source").</summary>
    private static bool IsBidiControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200E' or '\u200F';
}
