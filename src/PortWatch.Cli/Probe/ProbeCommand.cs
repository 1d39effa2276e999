using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Targets;

namespace PortWatch.Cli.Probe;

/// <summary>`portwatch probe HOST:PORT[,PORT...]`: service and version detection on given open ports.</summary>
public static class ProbeCommand
{
    public const string Usage = """
        usage: portwatch probe HOST:PORT[,PORT...]... [options]
          TCP ports by default; U:PORT for UDP (e.g. 192.0.2.5:22,U:53,U:123)

          --probes FILE        probe database (default: /usr/share/nmap/nmap-service-probes if installed, else built-in)
          --builtin-probes     use PortWatch's built-in probe set only
          --intensity N        0 (light) to 9 (all probes), default 7
          --format F           text | json (default text)
          -o, --output FILE    write there instead of standard output
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var endpoints = new List<(IPEndPoint Endpoint, PortProtocol Protocol)>();
        string? probesFile = null, outputFile = null;
        var builtIn = false;
        var format = "text";
        var intensity = 7;
        try
        {
            for (var i = 0; i < args.Count; i++)
            {
                string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--probes": probesFile = Value(); break;
                    case "--builtin-probes": builtIn = true; break;
                    case "--intensity":
                        var text = Value();
                        intensity = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 9
                            ? n : throw new ArgumentException($"--intensity '{text}': expected 0 to 9");
                        break;
                    case "--format":
                        format = Value();
                        if (format is not ("text" or "json"))
                            throw new ArgumentException($"--format '{format}': use text or json");
                        break;
                    case "-o" or "--output": outputFile = Value(); break;
                    default:
                        if (args[i].StartsWith('-'))
                            throw new ArgumentException($"unknown option '{args[i]}'");
                        endpoints.AddRange(ParseEndpoints(args[i]));
                        break;
                }
            }
            if (endpoints.Count == 0)
                throw new ArgumentException("give at least one HOST:PORT");
        }
        catch (Exception ex) when (ex is ArgumentException or TargetSpecException)
        {
            await stderr.WriteLineAsync($"portwatch probe: {ex.Message}");
            return CommandLine.Usage;
        }

        ServiceProbeDatabase database;
        try
        {
            database = ProbeDatabases.Load(probesFile, builtIn);
        }
        catch (FileNotFoundException ex)
        {
            await stderr.WriteLineAsync($"portwatch probe: {ex.Message}");
            return CommandLine.Usage;
        }
        await stderr.WriteLineAsync(Describe(database));
        var detector = new ServiceDetector(database, new ProbeRunnerOptions { Intensity = intensity });
        using var output = outputFile is null ? null : new StreamWriter(outputFile);
        var writer = output ?? stdout;
        var reports = new List<ServiceReport>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await foreach (var report in detector.ProbeManyAsync(endpoints, cancellationToken))
            {
                reports.Add(report);
                if (format == "json")
                    await writer.WriteLineAsync(JsonLine(report));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("portwatch probe: interrupted");
            return ScanCommandExitCodes.Interrupted;
        }
        if (format == "text")
            WriteText(writer, reports);
        await writer.FlushAsync(CancellationToken.None);
        await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{reports.Count} port(s) probed in {clock.Elapsed.TotalSeconds:F1} s: {reports.Count(r => r.Service is { IsSoftMatch: false })} identified, {reports.Count(r => r.Service is { IsSoftMatch: true })} named only, {reports.Count(r => r.Service is null)} unknown"));
        return CommandLine.Ok;
    }

    public static string Describe(ServiceProbeDatabase database) =>
        $"portwatch: probes from {database.Source} ({database.Probes.Count} probes, {database.MatchCount} patterns" +
        (database.Warnings.Count > 0 ? $", {database.Warnings.Count} lines skipped" : "") + ")";

    public static string JsonLine(ServiceReport report)
    {
        var json = new JsonObject
        {
            ["ip"] = report.Endpoint.Address.ToString(),
            ["port"] = report.Endpoint.Port,
            ["proto"] = report.Protocol == PortProtocol.Udp ? "udp" : "tcp",
            ["state"] = StateOf(report),
        };
        ServiceOutput.AddTo(json, report);
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>TCP: closed when it could not be connected to. UDP: open once any probe was answered, closed on a port
    /// unreachable, and otherwise as unknown as a silent port scan left it.</summary>
    public static string StateOf(ServiceReport report) => report.Protocol == PortProtocol.Udp
        ? report.Answered ? "open" : report.Refused ? "closed" : "open|filtered"
        : report.Error is { } e && e.StartsWith("connect", StringComparison.Ordinal) ? "closed" : "open";

    public static void WriteText(TextWriter writer, IEnumerable<ServiceReport> reports)
    {
        foreach (var host in reports.GroupBy(r => r.Endpoint.Address.ToString()).OrderBy(g => IpAddressMath.ToUnifiedValue(IPAddress.Parse(g.Key))))
        {
            writer.WriteLine($"Service report for {host.Key}");
            writer.WriteLine("PORT        STATE          SERVICE          VERSION");
            foreach (var report in host.OrderBy(r => r.Protocol).ThenBy(r => r.Endpoint.Port))
            {
                writer.WriteLine($"{$"{report.Endpoint.Port}/{(report.Protocol == PortProtocol.Udp ? "udp" : "tcp")}",-11} {StateOf(report),-14} {ServiceOutput.Describe(report)}");
                foreach (var line in ServiceOutput.Details(report))
                    writer.WriteLine(line);
            }
            writer.WriteLine();
        }
    }

    /// <summary>"10.0.0.5:22", "10.0.0.5:22,80,443", "[2001:db8::1]:443", "host.example:8443".</summary>
    public static IEnumerable<(IPEndPoint Endpoint, PortProtocol Protocol)> ParseEndpoints(string text)
    {
        string host, ports;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
                throw new ArgumentException($"'{text}': expected [IPv6]:PORT");
            host = text[1..close];
            ports = text[(close + 2)..];
        }
        else
        {
            // "host:22,U:53": the port list may hold T:/U: qualifiers, so the host ends at the first colon; an unbracketed IPv6
            // address without qualifiers ends at the last.
            var qualified = text.Contains("U:", StringComparison.OrdinalIgnoreCase) || text.Contains("T:", StringComparison.OrdinalIgnoreCase);
            var colon = qualified ? text.IndexOf(':', StringComparison.Ordinal) : text.LastIndexOf(':');
            if (colon <= 0)
                throw new ArgumentException($"'{text}': expected HOST:PORT");
            host = text[..colon];
            ports = text[(colon + 1)..];
        }
        var targets = TargetSet.Create([host], maxAddresses: 256);
        var portSet = PortSet.Parse(ports);
        for (ulong i = 0; i < targets.Count; i++)
        {
            foreach (var port in portSet.Tcp)
                yield return (new IPEndPoint(targets.AddressAt(i), port), PortProtocol.Tcp);
            foreach (var port in portSet.Udp)
                yield return (new IPEndPoint(targets.AddressAt(i), port), PortProtocol.Udp);
        }
    }
}

public static class ScanCommandExitCodes
{
    public const int Interrupted = 130;
}
