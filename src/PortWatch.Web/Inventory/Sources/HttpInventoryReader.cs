using System.Globalization;
using System.Text;
using System.Text.Json;
using PortWatch.Scanning;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Inventory.Sources;

/// <summary>
/// Reads an HTTP inventory: a GET with the optional header, a 2xx answer of JSON (the array at
/// the items path) or CSV (a header line, then rows), each item mapped field by field. Any other
/// answer, an answer over 32 MB, or an empty list is a failure that changes nothing.
/// </summary>
public sealed class HttpInventoryReader(IHttpClientFactory httpClients) : IAssetSourceReader
{
    public const string HttpClientName = "asset-sources";
    public const int MaxBytes = 32 * 1024 * 1024;

    public AssetSourceKind Kind => AssetSourceKind.Http;

    public async Task<IReadOnlyList<SourceEntry>> ReadAsync(SourceDefinition source, CancellationToken cancellationToken)
    {
        var settings = source.SettingsAs<HttpSourceSettings>();
        var url = new Uri(settings.Url);
        var body = await FetchAsync(url, source.Secrets.Header, cancellationToken);
        var entries = settings.Format == "csv" ? FromCsv(body, settings.Mapping) : FromJson(body, settings);
        if (entries.Count == 0)
            throw new AssetSourceException($"{url.Authority} answered an empty list; an empty answer changes nothing (remove the source to drop its assets)");
        return entries;
    }

    private async Task<string> FetchAsync(Uri url, string? header, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (!string.IsNullOrWhiteSpace(header))
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !request.Headers.TryAddWithoutValidation(header[..colon].Trim(), header[(colon + 1)..].Trim()))
                throw new AssetSourceException("the source's header is not 'Name: value'");
        }
        var client = httpClients.CreateClient(HttpClientName);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            // The status only: the body of an error page is the remote's text (and could be an internal page's).
            if (!response.IsSuccessStatusCode)
                throw new AssetSourceException($"{url.Authority} answered {(int)response.StatusCode}");
            if (response.Content.Headers.ContentLength > MaxBytes)
                throw new AssetSourceException($"{url.Authority} answered more than {MaxBytes / 1024 / 1024} MB");
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxBytes)
                    throw new AssetSourceException($"{url.Authority} answered more than {MaxBytes / 1024 / 1024} MB");
                buffer.Write(chunk, 0, read);
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new AssetSourceException($"{url.Authority} could not be reached: {SafeText.ForTerminal(ex.Message, 200)}", ex);
        }
    }

    internal static List<SourceEntry> FromJson(string body, HttpSourceSettings settings)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new AssetSourceException($"the answer is not JSON: {SafeText.ForTerminal(ex.Message, 200)}", ex);
        }
        using (document)
        {
            var list = string.IsNullOrWhiteSpace(settings.Items) ? document.RootElement : Path(document.RootElement, settings.Items);
            if (list is not { ValueKind: JsonValueKind.Array } items)
                throw new AssetSourceException(string.IsNullOrWhiteSpace(settings.Items)
                    ? "the answer is not a JSON array; set 'items' to the path of the array in it"
                    : $"the answer has no array at '{SafeText.ForTerminal(settings.Items, 100)}'");
            var m = settings.Mapping;
            var entries = new List<SourceEntry>();
            foreach (var item in items.EnumerateArray())
            {
                var raw = SafeText.ForTerminal(item.GetRawText(), 120);
                if (item.ValueKind != JsonValueKind.Object)
                {
                    entries.Add(new SourceEntry(raw, null));
                    continue;
                }
                entries.Add(new SourceEntry(raw, Text(Path(item, m.Address)), Text(Path(item, m.Name)), Text(Path(item, m.Owner)), Text(Path(item, m.Environment)),
                    Tags(Path(item, m.Tags)), Text(Path(item, m.Id))));
            }
            return entries;
        }
    }

    internal static List<SourceEntry> FromCsv(string body, HttpSourceMapping m)
    {
        var lines = body.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')).ToList();
        if (lines.Count == 0)
            return [];
        var header = AssetService.SplitCsv(lines[0])?.Select(c => c.Trim().ToLowerInvariant()).ToList()
            ?? throw new AssetSourceException("the CSV header line has unbalanced quotes");
        int Column(string? name) => name is null ? -1 : header.IndexOf(name.Trim().ToLowerInvariant());
        var address = Column(m.Address);
        if (address < 0)
            throw new AssetSourceException($"the CSV has no column '{SafeText.ForTerminal(m.Address, 60)}' (its columns: {SafeText.ForTerminal(string.Join(", ", header), 200)})");
        var (name, owner, environment, tags, id) = (Column(m.Name), Column(m.Owner), Column(m.Environment), Column(m.Tags), Column(m.Id));
        var entries = new List<SourceEntry>();
        foreach (var line in lines.Skip(1))
        {
            var raw = SafeText.ForTerminal(line, 120);
            var cells = AssetService.SplitCsv(line);
            if (cells is null)
            {
                entries.Add(new SourceEntry(raw, null));
                continue;
            }
            string? Cell(int i) => i >= 0 && i < cells.Count && cells[i].Trim() is { Length: > 0 } v ? v : null;
            entries.Add(new SourceEntry(raw, Cell(address), Cell(name), Cell(owner), Cell(environment),
                Cell(tags) is { } t ? t.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [], Cell(id)));
        }
        return entries;
    }

    /// <summary>A dot-separated path ("network.public_ip", "addresses.0"); null when any step is missing.</summary>
    internal static JsonElement? Path(JsonElement element, string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
            return null;
        var current = element;
        foreach (var step in path.Split('.'))
        {
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(step, out var child))
                current = child;
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < current.GetArrayLength())
                current = current[index];
            else
                return null;
        }
        return current;
    }

    private static string? Text(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString() is { Length: > 0 } text ? text.Trim() : null,
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        { ValueKind: JsonValueKind.True } => "true",
        { ValueKind: JsonValueKind.False } => "false",
        _ => null,
    };

    private static IReadOnlyList<string> Tags(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Select(e => Text(e)).OfType<string>().ToList(),
        { ValueKind: JsonValueKind.String } s => (s.GetString() ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        // {"team": "payments"} as tags "team=payments": the usual shape of cloud tags.
        { ValueKind: JsonValueKind.Object } o => o.EnumerateObject().Select(p => Text(p.Value) is { } v ? $"{p.Name}={v}" : p.Name).ToList(),
        _ => [],
    };
}
