using System.Diagnostics;
using System.Net.Sockets;
using PortWatch.Scanning;
using PortWatch.Cli.Probe;
using PortWatch.Scanning.Connect;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Syn;
using PortWatch.Scanning.Targets;
using PortWatch.Scanning.Transport;
using PortWatch.Scanning.Udp;

namespace PortWatch.Cli.Scan;

/// <summary>`portwatch scan`: runs the engine, prints verdicts, keeps a resumable checkpoint.</summary>
public static class ScanCommand
{
    public const int Interrupted = 130;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ScanArguments a;
        TargetSet targets;
        PortSet ports;
        ResumeState? resume;
        try
        {
            a = ScanArguments.Parse(args);
            resume = a.ResumeFile is null ? null : ResumeState.Load(a.ResumeFile);
            if (resume is not null && a.Targets.Count == 0)
            {
                a.Targets.AddRange(resume.Targets);
                a.Exclusions.AddRange(resume.Exclusions);
                a.Ports = resume.Ports;
            }
            if (a.Targets.Count == 0)
                throw new ArgumentException("no targets given");
            targets = TargetSet.Create(a.Targets, a.Exclusions, a.MaxAddresses);
            ports = PortSet.Parse(a.Ports);
            new ScopeGuard(a.Scope).Check(targets);
            if (resume is not null && (resume.Ports != a.Ports || !resume.Targets.SequenceEqual(a.Targets)))
                throw new ArgumentException($"--resume '{a.ResumeFile}' belongs to another scan ({string.Join(' ', resume.Targets)} -p {resume.Ports})");
        }
        catch (Exception ex) when (ex is ArgumentException or TargetSpecException)
        {
            await stderr.WriteLineAsync($"portwatch scan: {ex.Message}");
            await stderr.WriteLineAsync("(portwatch scan --help for usage)");
            return CommandLine.Usage;
        }

        var (engine, why) = ChooseEngine(a.Engine, targets);
        if (engine is null)
        {
            await stderr.WriteLineAsync($"portwatch scan: {why}");
            return CommandLine.Usage;
        }
        await stderr.WriteLineAsync($"portwatch: engine {engine} ({why}); {targets.Count} host(s) x {ports.Tcp.Count} TCP" +
            (ports.Udp.Count > 0 ? $" + {ports.Udp.Count} UDP" : "") + $" port(s) at up to {a.Rate}/s");

        var options = new ScanOptions
        {
            RatePps = a.Rate,
            Retries = a.Retries,
            MaxRetries = Math.Max(a.Retries, a.MaxRetries),
            Timeout = TimeSpan.FromMilliseconds(a.TimeoutMs),
            SourcePort = a.SourcePort,
            Seed = resume?.Seed ?? a.Seed ?? (ulong)Random.Shared.NextInt64(),
            StartPosition = resume?.Checkpoint ?? 0,
            AdaptRate = !a.FixedRate,
            ReportClosed = a.AllStates, // otherwise counted: the report calls every port without a verdict line closed
            // Streaming open ports as JSON needs no other verdict: filtered ones are counted for the summary only.
            ReportFiltered = !(a.Format == "json" && !a.Service && !a.AllStates),
        };
        if (a.Window is { } window)
            options = options with { Window = window };
        var commandLine = "portwatch scan " + string.Join(' ', args);
        var report = new ScanReport(targets, ports, engine, commandLine);
        foreach (var line in resume?.Results ?? [])
            report.Add(line);
        var countedBefore = resume?.CountedFiltered ?? 0;
        var state = new ResumeState
        {
            CountedFiltered = countedBefore,
            Targets = a.Targets,
            Exclusions = a.Exclusions,
            Ports = a.Ports,
            Seed = options.Seed,
            Checkpoint = options.StartPosition,
            TotalProbes = report.TotalProbes,
        };
        if (resume is not null)
            await stderr.WriteLineAsync($"portwatch: resuming at probe {resume.Checkpoint} of {resume.TotalProbes} ({resume.Results.Count} verdicts kept)");

        using var output = a.OutputFile is null ? null : new StreamWriter(a.OutputFile);
        var writer = output ?? stdout;
        var clock = Stopwatch.StartNew();
        var lastSave = Stopwatch.StartNew();
        var lastShown = Stopwatch.StartNew();
        var showProgress = !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
        var lastRate = options.RatePps;
        var progress = new SynchronousProgress<ScanProgress>(p =>
        {
            state.Checkpoint = p.CheckpointPosition;
            if (p.Rate != lastRate)
            {
                // A change of rate is worth a line of its own, in a log as on a terminal.
                stderr.Write($"{(showProgress ? "\r" : "")}portwatch: rate {p.Rate}/s at {p.Elapsed.TotalSeconds:F1} s{(p.RateReason is { } why ? $": {why}" : ": back at --rate")}\n");
                lastRate = p.Rate;
            }
            if (!options.ReportFiltered)
                report.CountedFiltered = state.CountedFiltered = countedBefore + p.FilteredBeforeCheckpoint;
            if (showProgress && lastShown.Elapsed > TimeSpan.FromSeconds(1))
            {
                var eta = p.EstimatedRemaining is { } r ? $", about {r.TotalSeconds:F0} s left" : "";
                var resent = p.Retransmits > 0 ? $", {p.Retransmits} re-sent" : "";
                var rate = p.RateReason is { } why ? $" (rate {p.Rate}/s: {why})" : "";
                stderr.Write($"\r{p.Probed + options.StartPosition}/{p.TotalProbes} probed at {p.PacketsPerSecond:F0}/s{rate}{resent}, {p.Received} answered, {p.OpenFound} open{eta}   ");
                lastShown.Restart();
            }
            if (a.ResumeFile is not null && lastSave.Elapsed > TimeSpan.FromSeconds(2))
            {
                SaveCheckpoint(a.ResumeFile, state, report);
                lastSave.Restart();
            }
        });

        var interrupted = false;
        try
        {
            var tcp = engine == "syn"
                ? ScanSyn(targets, ports, options, progress, a, stderr, cancellationToken)
                : new ConnectScanner().ScanAsync(targets, ports.Tcp, options, progress, cancellationToken);
            // UDP after TCP: a resumed scan whose TCP part was finished goes straight on to UDP.
            var udp = new UdpScanner().ScanAsync(targets, ports.Udp, options with { StartPosition = 0 }, cancellationToken);
            await foreach (var result in Concat(tcp, udp).WithCancellation(cancellationToken))
            {
                var line = ScanReport.ToLine(result);
                // UDP verdicts are few and each one is informative; TCP "closed" is the bulk and is counted instead.
                if (a.AllStates || result.Status != PortStatus.Closed || result.Protocol == PortProtocol.Udp)
                    report.Add(line);
                // With --service, lines are written once the services are known; otherwise as they come.
                if (a.Format == "json" && !a.Service && (a.AllStates || result.IsOpen))
                    await writer.WriteLineAsync(ScanReport.JsonLine(line));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
        }
        catch (InvalidOperationException ex)
        {
            await stderr.WriteLineAsync($"portwatch scan: {ex.Message}");
            return 1;
        }

        if (showProgress)
            stderr.Write("\r" + new string(' ', 110) + "\r"); // clear the progress line
        if (interrupted)
        {
            if (a.ResumeFile is not null)
            {
                SaveCheckpoint(a.ResumeFile, state, report);
                await stderr.WriteLineAsync($"portwatch: interrupted; checkpoint at probe {state.Checkpoint} saved to {a.ResumeFile} (run again with --resume {a.ResumeFile})");
            }
            else
            {
                await stderr.WriteLineAsync("portwatch: interrupted (use --resume FILE to be able to continue a scan)");
            }
            return Interrupted;
        }

        var scanElapsed = clock.Elapsed; // the rate is the discovery's, not service detection's
        if (a.Service)
        {
            try
            {
                var database = ProbeDatabases.Load(a.ProbesFile, a.BuiltInProbes);
                await stderr.WriteLineAsync(ProbeCommand.Describe(database));
                var endpoints = report.OpenTcpEndpoints().Select(e => (e, PortProtocol.Tcp))
                    .Concat(report.OpenOrSilentUdpEndpoints().Select(e => (e, PortProtocol.Udp))).ToList();
                await foreach (var service in new ServiceDetector(database, new ProbeRunnerOptions { Intensity = a.Intensity }).ProbeManyAsync(endpoints, cancellationToken))
                    report.AddService(service);
            }
            catch (FileNotFoundException ex)
            {
                await stderr.WriteLineAsync($"portwatch scan: {ex.Message}");
                return CommandLine.Usage;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("portwatch: interrupted during service detection; ports are reported without services");
            }
        }

        switch (a.Format)
        {
            case "json" when a.Service:
                report.WriteJson(writer, a.AllStates);
                break;
            case "text":
                report.WriteText(writer, a.AllStates, scanElapsed);
                break;
            case "csv":
                report.WriteCsv(writer, a.AllStates);
                break;
            case "xml":
                report.WriteXml(writer, a.AllStates, scanElapsed);
                break;
        }
        await writer.FlushAsync(CancellationToken.None);
        if (a.Format != "text" || output is not null)
            await stderr.WriteLineAsync(report.Summary(scanElapsed));
        if (a.ResumeFile is not null && File.Exists(a.ResumeFile))
            File.Delete(a.ResumeFile); // finished: nothing to resume
        return CommandLine.Ok;
    }

    private static async IAsyncEnumerable<PortResult> ScanSyn(TargetSet targets, PortSet ports, ScanOptions options,
        IProgress<ScanProgress> progress, ScanArguments a, TextWriter stderr, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (targets.Ranges.All(r => r.Family == AddressFamily.InterNetworkV6))
        {
            using var transport6 = new RawSocket6Transport(a.SourcePort, options.Ttl);
            await stderr.WriteLineAsync("portwatch: probes go through a raw IPv6 socket");
            await foreach (var result in new SynScanner(transport6).ScanAsync(targets, ports.Tcp, options, progress, cancellationToken))
                yield return result;
            yield break;
        }
        var sendPath = "raw IPv4 socket (--send-path raw)";
        using var transport = a.SendPath == "raw"
            ? new RawSocketTransport(a.SourcePort)
            : PacketSocketTransport.Open(a.SourcePort, a.Interface, out sendPath);
        await stderr.WriteLineAsync($"portwatch: probes go through {sendPath}");
        await foreach (var result in new SynScanner(transport).ScanAsync(targets, ports.Tcp, options, progress, cancellationToken))
            yield return result;
    }

    private static async IAsyncEnumerable<PortResult> Concat(IAsyncEnumerable<PortResult> first, IAsyncEnumerable<PortResult> second)
    {
        await foreach (var r in first)
            yield return r;
        await foreach (var r in second)
            yield return r;
    }

    private static void SaveCheckpoint(string path, ResumeState state, ScanReport report)
    {
        state.Results = report.NonClosed.ToList();
        state.Save(path);
    }

    /// <summary>SYN when raw sockets are allowed and the targets are of one address family; otherwise connect, saying why.</summary>
    public static (string? Engine, string Why) ChooseEngine(ScanEngine requested, TargetSet targets)
    {
        var ipv6 = targets.Ranges.Count > 0 && targets.Ranges.All(r => r.Family == AddressFamily.InterNetworkV6);
        var mixed = targets.Ranges.Select(r => r.Family).Distinct().Count() > 1;
        var raw = ipv6 ? RawSocket6Transport.IsAvailable(out var rawReason) : RawSocketTransport.IsAvailable(out rawReason);
        return requested switch
        {
            ScanEngine.Syn when mixed => (null, "--engine syn scans one address family at a time: scan the IPv4 and the IPv6 targets separately, or use --engine connect"),
            ScanEngine.Syn when !raw => (null, $"--engine syn: {rawReason}"),
            ScanEngine.Syn => ("syn", "requested"),
            ScanEngine.Connect => ("connect", "requested"),
            _ when mixed => ("connect", "IPv4 and IPv6 targets together are scanned with connect()"),
            _ when raw => ("syn", rawReason),
            _ => ("connect", rawReason),
        };
    }
}
