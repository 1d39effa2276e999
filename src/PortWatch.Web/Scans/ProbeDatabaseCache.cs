using Microsoft.Extensions.Options;
using PortWatch.Scanning.Probes;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Scans;

/// <summary>The probe database, parsed once per process (nmap's file takes about a second).</summary>
public sealed class ProbeDatabaseCache(IOptions<ScanningOptions> options, ILogger<ProbeDatabaseCache> logger)
{
    private readonly Lazy<ServiceProbeDatabase> database = new(() =>
    {
        var db = ProbeDatabases.Load(options.Value.ProbeDatabasePath, options.Value.BuiltInProbesOnly);
        logger.LogInformation("Service probes from {Source}: {Probes} probes, {Patterns} patterns, {Skipped} lines skipped",
            db.Source, db.Probes.Count, db.MatchCount, db.Warnings.Count);
        return db;
    });

    public ServiceProbeDatabase Get() => database.Value;
}
