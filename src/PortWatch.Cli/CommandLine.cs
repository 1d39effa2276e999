using System.Globalization;
using PortWatch.Scanning.Targets;

namespace PortWatch.Cli;

/// <summary>The `portwatch` command: the scan engine from a terminal, and a client for a PortWatch server's imports and exports.</summary>
public static class CommandLine
{
    public const int Ok = 0;
    public const int Usage = 2;

    private const string Help = """
        usage: portwatch COMMAND [ARGS]

        commands:
          scan TARGETS...   scan TCP ports (SYN with raw sockets, connect() otherwise); --help for options
          probe HOST:PORT   identify services and versions on open ports; --help for options
          targets SPEC...   check target specifications (addresses, CIDRs, a-b ranges, IPv6)
                            and print each canonical range with its address count
          export            download findings or a run from a PortWatch server (csv, json, Nmap xml, html)
          import FILE       send Nmap XML or masscan output to a PortWatch server as a run
          help              this text
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        if (args.Length == 0 || args[0] is "help" or "-h" or "--help")
        {
            await output.WriteLineAsync(Help);
            return args.Length == 0 ? Usage : Ok;
        }
        if (args.Length > 1 && args[1] is "-h" or "--help")
        {
            await output.WriteLineAsync(args[0] switch
            {
                "probe" => Probe.ProbeCommand.Usage,
                "export" => Server.ServerCommands.ExportUsage,
                "import" => Server.ServerCommands.ImportUsage,
                _ => Scan.ScanArguments.Usage,
            });
            return Ok;
        }
        return args[0] switch
        {
            "scan" => await Scan.ScanCommand.RunAsync(args[1..], output, error, cancellationToken),
            "probe" => await Probe.ProbeCommand.RunAsync(args[1..], output, error, cancellationToken),
            "targets" => Targets(args[1..], output, error),
            "export" => await Server.ServerCommands.ExportAsync(args[1..], output, error, cancellationToken),
            "import" => await Server.ServerCommands.ImportAsync(args[1..], output, error, cancellationToken),
            _ => Unknown(args[0], error),
        };
    }

    private static int Unknown(string command, TextWriter error)
    {
        error.WriteLine($"portwatch: unknown command '{command}' (try 'portwatch help')");
        return Usage;
    }

    private static int Targets(string[] specs, TextWriter output, TextWriter error)
    {
        if (specs.Length == 0)
        {
            error.WriteLine("portwatch targets: give at least one target, e.g. 203.0.113.0/28");
            return Usage;
        }
        var failed = false;
        foreach (var spec in specs.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (IpRange.TryParse(spec, out var range, out var problem))
                output.WriteLine($"{range}\t{range.Count.ToString(CultureInfo.InvariantCulture)}");
            else
            {
                error.WriteLine($"portwatch targets: {problem}");
                failed = true;
            }
        }
        return failed ? Usage : Ok;
    }
}
