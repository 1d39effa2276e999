using System.Globalization;
using PortWatch.Scanning.Targets;

namespace PortWatch.Cli;

/// <summary>The `portwatch` command: the scan engine from a terminal.</summary>
public static class CommandLine
{
    public const int Ok = 0;
    public const int Usage = 2;

    private const string Help = """
        usage: portwatch COMMAND [ARGS]

        commands:
          targets SPEC...   check target specifications (addresses, CIDRs, a-b ranges, IPv6)
                            and print each canonical range with its address count
          help              this text
        """;

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "help" or "-h" or "--help")
        {
            output.WriteLine(Help);
            return Task.FromResult(args.Length == 0 ? Usage : Ok);
        }
        return Task.FromResult(args[0] switch
        {
            "targets" => Targets(args[1..], output, error),
            _ => Unknown(args[0], error),
        });
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
