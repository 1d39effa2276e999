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
        Concurrently(endpoints, e => e.Endpoint.Address, options,
            (e, ct) => e.Protocol == PortProtocol.Udp ? udp.ProbeAsync(e.Endpoint, ct) : tcp.ProbeAsync(e.Endpoint, ct), cancellationToken);

    /// <summary>
    /// Runs <paramref name="probe"/> on up to <see cref="ProbeRunnerOptions.Concurrency"/> items at once and at most
    /// <see cref="ProbeRunnerOptions.PortsPerHost"/> of one host (each port has several connections open: a host is not
    /// to get hundreds at once), yielding each report as it is done. Hosts take turns, so one host's many ports never
    /// hold the pool while the others wait.
    /// </summary>
    internal static IAsyncEnumerable<ServiceReport> Concurrently<T>(IEnumerable<T> items, Func<T, IPAddress> hostOf, ProbeRunnerOptions options,
        Func<T, CancellationToken, Task<ServiceReport>> probe, CancellationToken cancellationToken)
    {
        var byHost = items.GroupBy(hostOf).Select(g => new Queue<T>(g)).ToList();
        var turns = new List<(T Item, IPAddress Host)>();
        while (byHost.Count > 0)
        {
            foreach (var host in byHost)
            {
                var item = host.Dequeue();
                turns.Add((item, hostOf(item)));
            }
            byHost.RemoveAll(q => q.Count == 0);
        }
        var perHost = new System.Collections.Concurrent.ConcurrentDictionary<IPAddress, SemaphoreSlim>();
        return ResultStream.Create<ServiceReport>(async reports =>
        {
            try
            {
                await Parallel.ForEachAsync(turns, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency), CancellationToken = cancellationToken },
                    async (turn, ct) =>
                    {
                        var gate = perHost.GetOrAdd(turn.Host, _ => new SemaphoreSlim(Math.Max(1, options.PortsPerHost)));
                        await gate.WaitAsync(ct);
                        try
                        {
                            reports.TryWrite(await probe(turn.Item, ct));
                        }
                        finally
                        {
                            gate.Release();
                        }
                    });
            }
            finally
            {
                foreach (var gate in perHost.Values)
                    gate.Dispose();
            }
        }, cancellationToken);
    }
}
