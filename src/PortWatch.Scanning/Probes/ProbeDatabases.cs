namespace PortWatch.Scanning.Probes;

/// <summary>
/// Which probe database to use: a configured file; else the one Debian's nmap-common package
/// installs; else PortWatch's built-in set (our own probes and patterns, so detection works with
/// nothing installed).
/// </summary>
public static class ProbeDatabases
{
    public const string DebianPath = "/usr/share/nmap/nmap-service-probes";
    public const string BuiltInName = "built-in";

    public static ServiceProbeDatabase Load(string? configuredPath = null, bool builtInOnly = false)
    {
        if (builtInOnly)
            return BuiltIn();
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            if (!File.Exists(configuredPath))
                throw new FileNotFoundException($"probe database '{configuredPath}' does not exist", configuredPath);
            return ServiceProbeParser.ParseFile(configuredPath);
        }
        return File.Exists(DebianPath) ? ServiceProbeParser.ParseFile(DebianPath) : BuiltIn();
    }

    public static ServiceProbeDatabase BuiltIn()
    {
        using var stream = typeof(ProbeDatabases).Assembly.GetManifestResourceStream("PortWatch.Scanning.Probes.builtin-service-probes")
            ?? throw new InvalidOperationException("the built-in probe database is missing from the assembly");
        using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
        return ServiceProbeParser.Parse(reader, BuiltInName);
    }
}
