using System.Net;
using PortWatch.Scanning;
using PortWatch.Scanning.Connect;
using PortWatch.Scanning.Targets;

namespace PortWatch.Web.Scans;

/// <summary>
/// One TCP port of one address, checked with the engine's connect scanner (its self-connect guard
/// included): open, closed (a reset) or filtered (silent after every try). For the targeted checks
/// between scans, flow candidates and coverage recovery, which probe a port or a few, slowly.
/// </summary>
public static class SinglePortCheck
{
    /// <param name="retries">Tries after the first before the port is called silent.</param>
    public static async Task<PortResult> TcpAsync(IPAddress address, int port, TimeSpan timeout, int retries, CancellationToken cancellationToken)
    {
        var options = new ScanOptions
        {
            Timeout = timeout, Retries = retries, MaxRetries = retries, RatePps = 100, AdaptRate = false, ReportClosed = true, ReportFiltered = true,
        };
        PortResult? result = null;
        await foreach (var r in new ConnectScanner().ScanAsync(TargetSet.FromRanges([IpRange.Parse(address.ToString())]), [(ushort)port], options, cancellationToken: cancellationToken))
            result = r;
        return result ?? new PortResult(address, (ushort)port, PortProtocol.Tcp, PortStatus.Filtered, "no-response", null);
    }
}
