using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Probes;

/// <summary>
/// Service detection over TCP and UDP ports together: one pool of <see cref="ProbeRunnerOptions.Concurrency"/>
/// ports at a time, so a UDP port's silences (seconds) never hold up the TCP ports behind it; reports
/// arrive as each port finishes.
/// </summary>
public sealed class ServiceDetector(ServiceProbeDatabase database, ProbeRunnerOptions? options = null)
{
    private readonly ProbeRunnerOptions options = options ?? new ProbeRunnerOptions();
    private readonly ServiceProbeRunner tcp = new(database, options);
    private readonly UdpServiceProbeRunner udp = new(database, options);

    public IAsyncEnumerable<ServiceReport> ProbeManyAsync(IEnumerable<(IPEndPoint Endpoint, PortProtocol Protocol)> endpoints, CancellationToken cancellationToken = default) =>
        Concurrently(endpoints, options.Concurrency,
            (e, ct) => e.Protocol == PortProtocol.Udp ? udp.ProbeAsync(e.Endpoint, ct) : tcp.ProbeAsync(e.Endpoint, ct), cancellationToken);

    /// <summary>Runs <paramref name="probe"/> on up to <paramref name="concurrency"/> items at once, yielding each report as it is done.</summary>
    internal static IAsyncEnumerable<ServiceReport> Concurrently<T>(IEnumerable<T> items, int concurrency, Func<T, CancellationToken, Task<ServiceReport>> probe,
        CancellationToken cancellationToken) =>
        ResultStream.Create<ServiceReport>(reports =>
            Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (item, ct) => reports.TryWrite(await probe(item, ct))), cancellationToken);
}
