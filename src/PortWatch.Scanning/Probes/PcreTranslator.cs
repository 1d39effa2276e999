using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PortWatch.Scanning.Probes;

/// <summary>
/// Translates nmap's PCRE patterns to .NET regular expressions with the same meaning on
/// Latin-1 text (one char per received byte): ASCII-only \w \s (PCRE's non-UTF behaviour),
/// POSIX classes, (?P&lt;name&gt;), \x{..}, \h, possessive quantifiers (matched greedily),
/// and '[' inside classes (which .NET would read as class subtraction).
/// Banners are attacker-controlled, so every pattern gets a match timeout.
/// </summary>
public static class PcreTranslator
{
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    private static readonly Dictionary<string, string> PosixClasses = new()
    {
        ["alpha"] = "a-zA-Z", ["digit"] = "0-9", ["alnum"] = "a-zA-Z0-9", ["upper"] = "A-Z", ["lower"] = "a-z",
        ["space"] = @" \t\n\r\f\v", ["xdigit"] = "0-9A-Fa-f", ["punct"] = @"!-/:-@\[-`{-~", ["print"] = @" -~",
        ["graph"] = "!-~", ["cntrl"] = @"\x00-\x1f\x7f", ["blank"] = @" \t", ["word"] = "A-Za-z0-9_",
    };

    /// <exception cref="ArgumentException">the pattern uses something .NET cannot express, or does not parse.</exception>
    public static Regex Translate(string pattern, bool ignoreCase, bool dotAll)
    {
        var options = RegexOptions.CultureInvariant;
        if (ignoreCase)
            options |= RegexOptions.IgnoreCase;
        if (dotAll)
            options |= RegexOptions.Singleline;
        return new Regex(TranslatePattern(pattern), options, MatchTimeout);
    }

    public static string TranslatePattern(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        var classStart = -1; // index in the pattern where the current class's contents begin
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[i + 1];
                i++;
                switch (next)
                {
                    case 'w': output.Append(inClass ? "A-Za-z0-9_" : "[A-Za-z0-9_]"); break;
                    case 'W': output.Append(inClass ? @"\x00-/:-@\[-^`{-\xff" : "[^A-Za-z0-9_]"); break;
                    case 's': output.Append(inClass ? @" \t\n\r\f\v" : @"[ \t\n\r\f\v]"); break;
                    case 'S': output.Append(inClass ? @"\x00-\x08\x0e-\x1f!-\xff" : @"[^ \t\n\r\f\v]"); break;
                    case 'd': output.Append(inClass ? "0-9" : "[0-9]"); break;
                    case 'D': output.Append(inClass ? @"\x00-/:-\xff" : "[^0-9]"); break;
                    case 'h': output.Append(inClass ? @" \t" : @"[ \t]"); break;
                    case 'x' when i + 1 < pattern.Length && pattern[i + 1] == '{':
                        var close = pattern.IndexOf('}', i + 2);
                        if (close < 0)
                            throw new ArgumentException(@"unterminated \x{...}");
                        var value = int.Parse(pattern.AsSpan(i + 2, close - i - 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        output.Append(value <= 0xFF ? $@"\x{value:X2}" : $@"\u{value:X4}");
                        i = close;
                        break;
                    case 'Q':
                        var end = pattern.IndexOf(@"\E", i + 1, StringComparison.Ordinal);
                        var literal = end < 0 ? pattern[(i + 1)..] : pattern[(i + 1)..end];
                        output.Append(Regex.Escape(literal));
                        i = end < 0 ? pattern.Length : end + 1;
                        break;
                    case 'E': break;
                    case 'R' or 'X' or 'C' or 'K' or 'g' when !inClass:
                        throw new ArgumentException($@"\{next} has no .NET equivalent");
                    default:
                        output.Append('\\').Append(next);
                        break;
                }
                continue;
            }
            if (inClass)
            {
                if (c == ']' && i == classStart)
                {
                    output.Append(@"\]"); // a leading ']' is a literal in PCRE
                }
                else if (c == ']')
                {
                    inClass = false;
                    output.Append(']');
                }
                else if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    var end = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (end < 0)
                        throw new ArgumentException("unterminated POSIX class");
                    var name = pattern[(i + 2)..end];
                    if (!PosixClasses.TryGetValue(name, out var ranges))
                        throw new ArgumentException($"unknown POSIX class [:{name}:]");
                    output.Append(ranges);
                    i = end + 1;
                }
                else if (c == '[')
                {
                    output.Append(@"\[");
                }
                else
                {
                    output.Append(c);
                }
                continue;
            }
            switch (c)
            {
                case '[':
                    inClass = true;
                    output.Append('[');
                    classStart = i + 1;
                    if (classStart < pattern.Length && pattern[classStart] == '^')
                    {
                        output.Append('^');
                        i++;
                        classStart++;
                    }
                    // A ']' right at the start is a literal in both dialects; keep it and do not close on it.
                    break;
                case '(' when pattern.AsSpan(i).StartsWith("(?P<"):
                    output.Append("(?<");
                    i += 3;
                    break;
                case '(' when pattern.AsSpan(i).StartsWith("(?P="):
                    var nameEnd = pattern.IndexOf(')', i);
                    output.Append(@"\k<").Append(pattern, i + 4, nameEnd - i - 4).Append('>');
                    i = nameEnd;
                    break;
                case '(' when pattern.AsSpan(i).StartsWith("(?P>") || pattern.AsSpan(i).StartsWith("(?R)"):
                    throw new ArgumentException("recursive patterns have no .NET equivalent");
                case '+' when i > 0 && pattern[i - 1] is '*' or '+' or '?' or '}' && !IsEscaped(pattern, i - 1):
                    // Possessive quantifier: .NET has none; greedy matching finds the same matches for these patterns.
                    break;
                default:
                    output.Append(c);
                    break;
            }
        }
        if (inClass)
            throw new ArgumentException("unterminated character class");
        return output.ToString();
    }

    private static bool IsEscaped(string pattern, int index)
    {
        var backslashes = 0;
        for (var j = index - 1; j >= 0 && pattern[j] == '\\'; j--)
            backslashes++;
        return backslashes % 2 == 1;
    }
}
