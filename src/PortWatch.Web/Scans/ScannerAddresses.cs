using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Scans;

/// <summary>
/// The addresses this scanner is known by: its interfaces, loopback, and the configured ones
/// (a NAT gateway's public IP cannot be seen from inside). Scanning oneself misleads: the
/// kernel's own sockets answer, and a connect scan can connect a socket to itself.
/// </summary>
public sealed class ScannerAddresses(IOptions<ScanningOptions> options, ILogger<ScannerAddresses> logger)
{
    private static readonly IpRange[] Loopback = [IpRange.Parse("127.0.0.0/8"), IpRange.Parse("::1")];

    public IReadOnlyList<IpRange> Current()
    {
        var ranges = new List<IpRange>(Loopback);
        foreach (var text in options.Value.ScannerAddresses)
        {
            if (IpRange.TryParse(text, out var range, out var error))
                ranges.Add(range);
            else
                logger.LogWarning("Scanning:ScannerAddresses entry '{Entry}' ignored: {Error}", text, error);
        }
        try
        {
            foreach (var network in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in network.GetIPProperties().UnicastAddresses)
                {
                    if (!unicast.Address.IsIPv6LinkLocal)
                        ranges.Add(IpRange.Single(unicast.Address));
                }
            }
        }
        catch (NetworkInformationException ex)
        {
            logger.LogWarning(ex, "Could not list this machine's interface addresses");
        }
        return ranges;
    }

    public bool Contains(IPAddress address) => Current().Any(r => r.Contains(address));

    /// <summary>The scanner's own addresses that fall inside the targets, as range texts (for the run's exclusion list).</summary>
    public List<string> Within(TargetSet targets) =>
        Current().SelectMany(own => targets.Ranges.Where(t => t.Overlaps(own)).Select(t => Intersect(t, own)))
            .Distinct().Select(r => r.ToString()).ToList();

    private static IpRange Intersect(IpRange a, IpRange b) => a with { First = UInt128.Max(a.First, b.First), Last = UInt128.Min(a.Last, b.Last) };
}
