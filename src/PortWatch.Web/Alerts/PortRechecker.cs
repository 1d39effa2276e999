using System.Net;
using Microsoft.Extensions.Options;
using PortWatch.Scanning;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Targets;
using PortWatch.Scanning.Udp;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Alerts;

public sealed record RecheckResult(bool Open, string Detail, ServiceReport? Service);

/// <summary>
/// Looks again, moments before alerting: a full connect (retried once), then service detection.
/// A port that a scan saw open but that is gone now (a flapping service, a trap's transient
/// SYN-ACK) is not worth waking someone for.
/// </summary>
public sealed class PortRechecker(ProbeDatabaseCache probes, IOptions<AlertOptions> options)
{
    public async Task<RecheckResult> RecheckAsync(string address, int port, TransportProtocol protocol, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromMilliseconds(Math.Max(100, options.Value.RecheckTimeoutMs));
        PortResult? result = null;
        if (protocol == TransportProtocol.Udp)
        {
            var scan = new ScanOptions { Retries = 1, Timeout = timeout, RatePps = 100, Concurrency = 1 };
            await foreach (var r in new UdpScanner().ScanAsync(TargetSet.Create([address]), [(ushort)port], scan, cancellationToken))
                result = r;
        }
        else
        {
            result = await SinglePortCheck.TcpAsync(IPAddress.Parse(address), port, timeout, retries: 1, cancellationToken);
        }
        if (result is not { } seen || seen.Status != PortStatus.Open)
            return new RecheckResult(false, $"not open on re-check ({result?.Reason ?? "no answer"})", null);
        if (protocol == TransportProtocol.Udp)
            return new RecheckResult(true, $"open on re-check ({seen.Reason})", null);
        var wait = TimeSpan.FromMilliseconds(Math.Max(100, options.Value.RecheckTimeoutMs));
        var runner = new ServiceProbeRunner(probes.Get(), new ProbeRunnerOptions
        {
            Intensity = 2, ConnectTimeout = wait, BannerWait = wait, ProbeWait = wait, PortBudget = wait * 3,
        });
        var report = await runner.ProbeAsync(new IPEndPoint(IPAddress.Parse(address), port), cancellationToken);
        if (report.Error?.StartsWith("connect failed", StringComparison.Ordinal) == true)
            return new RecheckResult(false, $"gone during re-check ({report.Error})", report);
        return new RecheckResult(true, $"confirmed open on re-check, {report.DisplayName}", report);
    }
}
