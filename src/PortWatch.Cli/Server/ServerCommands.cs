using System.Net.Http.Headers;
using System.Text.Json;

namespace PortWatch.Cli.Server;

/// <summary>
/// `portwatch export` and `portwatch import`: clients of a PortWatch server's REST API, so
/// exports and imports go through the same checks, triage and audit as the dashboard.
/// </summary>
public static class ServerCommands
{
    public const string ExportUsage = """
        usage: portwatch export [options]

          --url URL            PortWatch server (default: $PORTWATCH_URL, else http://127.0.0.1:5080)
          --token TOKEN        API token (default: $PORTWATCH_TOKEN); create one under "API tokens"
          --format F           csv | json | xml (Nmap) | html (default csv)
          --run ID             export one run's open ports instead of the findings
          --quick Q            All | New | Unreviewed | Abnormal | HighRisk | ChangedService
          --search TEXT        an IP, CIDR, port number or service text
          -o, --output FILE    write there instead of standard output
        """;

    public const string ImportUsage = """
        usage: portwatch import FILE [options]

          --url URL            PortWatch server (default: $PORTWATCH_URL, else http://127.0.0.1:5080)
          --token TOKEN        API token (default: $PORTWATCH_TOKEN)
          --format F           auto | nmap-xml | masscan-json | masscan-list (default auto)
        """;

    public static async Task<int> ExportAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, HttpClient? client = null)
    {
        var options = Options.Parse(args, ["--format", "--run", "--quick", "--search", "-o", "--output"], out var positional, out var problem);
        if (problem is not null || positional.Count > 0)
            return Fail(stderr, "export", problem ?? $"unexpected argument '{positional[0]}'");
        var format = options.GetValueOrDefault("--format", "csv");
        if (format is not ("csv" or "json" or "xml" or "html"))
            return Fail(stderr, "export", $"--format '{format}' is not one of csv, json, xml, html");
        string path;
        if (options.TryGetValue("--run", out var run))
        {
            if (!long.TryParse(run, out var runId) || runId <= 0)
                return Fail(stderr, "export", $"--run '{run}' is not a run number");
            path = $"api/v1/runs/{runId}/export?format={format}";
        }
        else
        {
            path = $"api/v1/findings/export?format={format}";
            if (options.TryGetValue("--quick", out var quick))
                path += $"&quick={Uri.EscapeDataString(quick)}";
            if (options.TryGetValue("--search", out var search))
                path += $"&search={Uri.EscapeDataString(search)}";
        }
        using var http = client is null ? Connect(options, stderr) : null;
        var api = client ?? http;
        if (api is null)
            return CommandLine.Usage;
        using var response = await SendAsync(api, new HttpRequestMessage(HttpMethod.Get, path), stderr, cancellationToken);
        if (response is null)
            return 1;
        var outputFile = options.GetValueOrDefault("--output") ?? options.GetValueOrDefault("-o");
        if (outputFile is not null)
        {
            await using var file = File.Create(outputFile);
            await response.Content.CopyToAsync(file, cancellationToken);
            await stderr.WriteLineAsync($"portwatch export: wrote {outputFile}");
        }
        else
        {
            await stdout.WriteAsync(await response.Content.ReadAsStringAsync(cancellationToken));
            await stdout.FlushAsync(cancellationToken);
        }
        return CommandLine.Ok;
    }

    public static async Task<int> ImportAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, HttpClient? client = null)
    {
        var options = Options.Parse(args, ["--format"], out var positional, out var problem);
        if (problem is not null)
            return Fail(stderr, "import", problem);
        if (positional.Count != 1)
            return Fail(stderr, "import", "give exactly one file to import");
        var format = options.GetValueOrDefault("--format", "auto");
        if (format is not ("auto" or "nmap-xml" or "masscan-json" or "masscan-list"))
            return Fail(stderr, "import", $"--format '{format}' is not one of auto, nmap-xml, masscan-json, masscan-list");
        var file = positional[0];
        if (!File.Exists(file))
            return Fail(stderr, "import", $"no such file: {file}");
        using var http = client is null ? Connect(options, stderr) : null;
        var api = client ?? http;
        if (api is null)
            return CommandLine.Usage;
        await using var stream = File.OpenRead(file);
        var request = new HttpRequestMessage(HttpMethod.Post, $"api/v1/imports?format={format}&name={Uri.EscapeDataString(Path.GetFileName(file))}")
        {
            Content = new StreamContent(stream) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        };
        // Ask before sending the body: a server that refuses the file (too large, no rights) says why instead of
        // cutting the upload off half-way ("Error while copying content").
        request.Headers.ExpectContinue = true;
        using var response = await SendAsync(api, request, stderr, cancellationToken);
        if (response is null)
            return 1;
        using var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var root = result.RootElement;
        await stdout.WriteLineAsync($"imported {file} as run {root.GetProperty("runId").GetInt64()}: {root.GetProperty("hosts").GetInt32()} host(s), {root.GetProperty("openPorts").GetInt32()} open port(s)");
        return CommandLine.Ok;
    }

    private static HttpClient? Connect(Dictionary<string, string> options, TextWriter stderr)
    {
        var url = options.GetValueOrDefault("--url") ?? Environment.GetEnvironmentVariable("PORTWATCH_URL") ?? "http://127.0.0.1:5080";
        var token = options.GetValueOrDefault("--token") ?? Environment.GetEnvironmentVariable("PORTWATCH_TOKEN");
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            stderr.WriteLine($"portwatch: '{url}' is not an http(s) URL");
            return null;
        }
        if (string.IsNullOrWhiteSpace(token))
        {
            stderr.WriteLine("portwatch: give an API token with --token or PORTWATCH_TOKEN (create one under \"API tokens\" in the dashboard)");
            return null;
        }
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        return client;
    }

    /// <summary>Sends; on failure prints the server's reasons (RFC 7807 problem details) and returns null.</summary>
    private static async Task<HttpResponseMessage?> SendAsync(HttpClient client, HttpRequestMessage request, TextWriter stderr, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            await stderr.WriteLineAsync($"portwatch: cannot reach {client.BaseAddress}: {ex.Message}");
            return null;
        }
        if (response.IsSuccessStatusCode)
            return response;
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var reasons = new List<string>();
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.TryGetProperty("errors", out var errors))
                reasons.AddRange(errors.EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(v => v.GetString() ?? "")));
            else if (problem.RootElement.TryGetProperty("title", out var title))
                reasons.Add(title.GetString() ?? "");
        }
        catch (JsonException)
        {
        }
        var why = response.StatusCode switch
        {
            System.Net.HttpStatusCode.Unauthorized => "the token is missing, unknown, revoked or expired",
            System.Net.HttpStatusCode.Forbidden => "the token's owner may not do this (Analyst or Admin needed)",
            _ => reasons.Count > 0 ? string.Join("; ", reasons) : $"{(int)response.StatusCode} {response.ReasonPhrase}",
        };
        await stderr.WriteLineAsync($"portwatch: the server refused: {why}");
        response.Dispose();
        return null;
    }

    private static int Fail(TextWriter stderr, string command, string message)
    {
        stderr.WriteLine($"portwatch {command}: {message}");
        return CommandLine.Usage;
    }

    /// <summary>--name value pairs (plus --url and --token for every command) and positional arguments.</summary>
    private static class Options
    {
        public static Dictionary<string, string> Parse(IReadOnlyList<string> args, string[] known, out List<string> positional, out string? problem)
        {
            var values = new Dictionary<string, string>();
            positional = [];
            problem = null;
            for (var i = 0; i < args.Count; i++)
            {
                var arg = args[i];
                if (arg.StartsWith('-'))
                {
                    if (arg is not ("--url" or "--token") && !known.Contains(arg))
                    {
                        problem = $"unknown option '{arg}'";
                        return values;
                    }
                    if (i + 1 >= args.Count)
                    {
                        problem = $"{arg} needs a value";
                        return values;
                    }
                    values[arg == "-o" ? "--output" : arg] = args[++i];
                }
                else
                {
                    positional.Add(arg);
                }
            }
            return values;
        }
    }
}
