using System.Globalization;
using PortWatch.Scanning;

namespace PortWatch.Cli.Scan;

/// <summary>The parsed command line of `portwatch scan`.</summary>
public sealed class ScanArguments
{
    public List<string> Targets { get; } = [];
    public List<string> Exclusions { get; } = [];
    public string Ports { get; set; } = "top1000";
    public int Rate { get; set; } = 10_000;
    public int Retries { get; set; } = 3;

    public int MaxRetries { get; set; } = 10;
    public int TimeoutMs { get; set; } = 1000;
    public ScanEngine Engine { get; set; } = ScanEngine.Auto;
    public string Format { get; set; } = "text";
    public string? OutputFile { get; set; }
    public string? ResumeFile { get; set; }
    public bool AllStates { get; set; }
    public ushort SourcePort { get; set; } = 61_000;
    public ulong? Seed { get; set; }
    public ulong MaxAddresses { get; set; } = Scanning.Targets.TargetSet.DefaultMaxAddresses;
    public List<string> Scope { get; } = [];
    public int? Window { get; set; }

    public string? Interface { get; set; }

    public string SendPath { get; set; } = "auto";

    public bool FixedRate { get; set; }
    public bool Service { get; set; }
    public string? ProbesFile { get; set; }
    public bool BuiltInProbes { get; set; }
    public int Intensity { get; set; } = 7;

    public const string Usage = """
        usage: portwatch scan TARGETS... [options]

          TARGETS              addresses, CIDRs, ranges (10.0.0.5-10.0.0.20 or 10.0.0.5-20), host names, IPv6
          -p, --ports SPEC     22,80,443 | 1-65535 | - | top100 | top1000 | T:22,U:53 (default top1000); -p- for all
          --rate PPS           packets (or connections) per second, all targets together (default 10000)
          --fixed-rate         SYN: hold --rate even when the answers say the path is saturated (default: back off)
          --retries N          re-sends before an unanswered port is called filtered, at least (default 3)
          --max-retries N      SYN: more re-sends while the measured loss says a silence may be a lost answer,
                               up to N (default 10; set it to --retries for exactly that many)
          --timeout MS         longest wait for a reply (default 1000)
          --engine E           syn | connect | auto (default auto: syn when raw sockets are allowed)
          --exclude SPEC       addresses or ranges to leave out (repeatable, comma-separated)
          --exclude-file FILE  one exclusion per line, # comments
          --scope SPEC         refuse targets outside these ranges (repeatable)
          --max-addresses N    refuse larger target sets (default 1048576)
          --window N           SYN: probes in flight at most (default 1048576, about 29 bytes each; up to 16777216)
          --interface IF       SYN: send through IF only (default: the interface of each route)
          --send-path P        SYN: auto (a packet socket, sendmmsg, past the qdisc; raw IPv4 socket if not allowed) | raw
          --source-port N      fixed source port of SYN probes (default 61000, outside the ephemeral range)
          --format F           text | json | csv | xml (nmap -oX compatible) (default text)
          -o, --output FILE    write results there instead of standard output
          --all-states         print closed and filtered ports too (default: open ones and a summary)
          --resume FILE        checkpoint file: continue the scan saved there, or save to it when interrupted
          --seed N             probe order seed (default random)
          --service            identify services and versions on the open TCP ports and the open or silent UDP ports (nmap -sV style)
          --probes FILE        probe database for --service (default: nmap's if installed, else built-in)
          --builtin-probes     --service with PortWatch's built-in probe set only
          --intensity N        --service version intensity, 0 to 9 (default 7)
        """;

    /// <exception cref="ArgumentException">with a message naming the bad argument.</exception>
    public static ScanArguments Parse(IReadOnlyList<string> args)
    {
        var parsed = new ScanArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Count)
                    throw new ArgumentException($"{arg} needs a value");
                return args[++i];
            }
            switch (arg)
            {
                case "-p-":
                    parsed.Ports = "1-65535";
                    break;
                case "-p" or "--ports":
                    parsed.Ports = Value();
                    break;
                case "--rate":
                    parsed.Rate = Positive(arg, Value(), 1, 10_000_000);
                    break;
                case "--retries":
                    parsed.Retries = Positive(arg, Value(), 0, 20);
                    break;
                case "--max-retries":
                    parsed.MaxRetries = Positive(arg, Value(), 0, 30);
                    break;
                case "--timeout":
                    parsed.TimeoutMs = Positive(arg, Value(), 10, 60_000);
                    break;
                case "--engine":
                    var engine = Value();
                    parsed.Engine = engine.ToLowerInvariant() switch
                    {
                        "syn" => ScanEngine.Syn,
                        "connect" => ScanEngine.Connect,
                        "auto" => ScanEngine.Auto,
                        _ => throw new ArgumentException($"--engine '{engine}': use syn, connect or auto"),
                    };
                    break;
                case "--exclude":
                    parsed.Exclusions.Add(Value());
                    break;
                case "--exclude-file":
                    var file = Value();
                    try
                    {
                        parsed.Exclusions.Add(File.ReadAllText(file));
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        throw new ArgumentException($"--exclude-file '{file}': {ex.Message}");
                    }
                    break;
                case "--scope":
                    parsed.Scope.Add(Value());
                    break;
                case "--max-addresses":
                    parsed.MaxAddresses = (ulong)PositiveLong(arg, Value());
                    break;
                case "--fixed-rate":
                    parsed.FixedRate = true;
                    break;
                case "--interface":
                    parsed.Interface = Value();
                    break;
                case "--send-path":
                    parsed.SendPath = Value() is "auto" or "raw" ? args[i] : throw new ArgumentException("--send-path must be auto or raw");
                    break;
                case "--source-port":
                    parsed.SourcePort = (ushort)Positive(arg, Value(), 1, 65535);
                    break;
                case "--format":
                    parsed.Format = Value().ToLowerInvariant();
                    if (parsed.Format is not ("text" or "json" or "csv" or "xml"))
                        throw new ArgumentException($"--format '{parsed.Format}': use text, json, csv or xml");
                    break;
                case "-o" or "--output":
                    parsed.OutputFile = Value();
                    break;
                case "--all-states":
                    parsed.AllStates = true;
                    break;
                case "--resume":
                    parsed.ResumeFile = Value();
                    break;
                case "--seed":
                    parsed.Seed = (ulong)PositiveLong(arg, Value());
                    break;
                case "--service" or "-sV":
                    parsed.Service = true;
                    break;
                case "--probes":
                    parsed.ProbesFile = Value();
                    parsed.Service = true;
                    break;
                case "--builtin-probes":
                    parsed.BuiltInProbes = true;
                    parsed.Service = true;
                    break;
                case "--intensity":
                    parsed.Intensity = Positive(arg, Value(), 0, 9);
                    break;
                case "--window":
                    parsed.Window = Positive(arg, Value(), 64, 1 << 24); // 16M slots: about 460 MB
                    break;
                default:
                    if (arg.StartsWith('-') && arg.Length > 1 && !char.IsAsciiDigit(arg[1]))
                        throw new ArgumentException($"unknown option '{arg}'");
                    parsed.Targets.Add(arg);
                    break;
            }
        }
        return parsed;
    }

    private static int Positive(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} '{value}': expected a whole number from {min} to {max}");

    private static long PositiveLong(string name, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new ArgumentException($"{name} '{value}': expected a whole number");
}
