using System.Text.Json;

namespace PortWatch.Web.Common;

/// <summary>One field of an audited change: its value before and after, as plain text (null: absent or empty).</summary>
public sealed record AuditFieldChange(string Field, string? Before, string? After);

/// <summary>
/// Turns an audit entry's before and after images (JSON objects) into the fields that changed, in
/// words a reader follows: a created thing lists what it was made with, a deleted one what it was,
/// a change only what differs. Text that is not a JSON object is shown as one "value" field.
/// </summary>
public static class AuditDiff
{
    private const int MaxValue = 500;

    public static IReadOnlyList<AuditFieldChange> Changes(string? before, string? after)
    {
        var old = Fields(before);
        var now = Fields(after);
        var names = old.Keys.Concat(now.Keys.Where(k => !old.ContainsKey(k))).ToList();
        var changes = new List<AuditFieldChange>();
        foreach (var name in names)
        {
            var b = old.GetValueOrDefault(name);
            var a = now.GetValueOrDefault(name);
            if (before is not null && after is not null && b == a)
                continue;
            changes.Add(new AuditFieldChange(name, b, a));
        }
        return changes;
    }

    private static Dictionary<string, string?> Fields(string? json)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json))
            return fields;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                fields["value"] = Text(document.RootElement);
                return fields;
            }
            foreach (var property in document.RootElement.EnumerateObject())
                fields[property.Name] = Text(property.Value);
        }
        catch (JsonException)
        {
            fields["value"] = Cut(json);
        }
        return fields;
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => Cut(value.GetString()),
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        JsonValueKind.Array => Cut(string.Join(", ", value.EnumerateArray().Select(Text).Where(t => t is not null))) is { Length: > 0 } list ? list : null,
        JsonValueKind.Object => Cut(string.Join(", ", value.EnumerateObject().Select(p => $"{p.Name}: {Text(p.Value) ?? "–"}"))),
        _ => value.GetRawText(),
    };

    private static string? Cut(string? text) =>
        string.IsNullOrEmpty(text) ? null : Scanning.SafeText.ForTerminal(text, MaxValue);
}
