using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Alerts;

/// <summary>
/// Where a webhook may point. An admin's webhook URL is a request PortWatch makes from inside the
/// network, so without this an account that can add a channel reaches the dashboard itself,
/// cloud metadata services and internal admin pages. Addresses that are loopback, link-local,
/// private, shared (CGNAT), multicast, unspecified, documentation-free reserved space, or one of
/// this host's own are refused unless <see cref="AlertOptions.AllowedWebhookHosts"/> names the host
/// or a range containing it. The check runs on the address actually connected to (after DNS), so
/// a name that resolves, or later re-resolves, to an internal address is refused too; redirects
/// are not followed.
/// </summary>
public sealed class WebhookAddressPolicy(IOptions<AlertOptions> options, ScannerAddresses ownAddresses)
{
    private static readonly IpRange[] Internal = new[]
    {
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "64:ff9b:1::/48",
    }.Select(IpRange.Parse).ToArray();

    /// <summary>Save-time check of a URL whose host is an address literal or a local name; names are checked again when connecting.</summary>
    public string? TargetError(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            return null; // the URL's shape is checked elsewhere
        var host = uri.IdnHost.Trim('[', ']');
        if (IsAllowListed(host, null))
            return null;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
            return Refusal(host, "is this machine");
        return IPAddress.TryParse(host, out var address) ? AddressError(host, address) : null;
    }

    /// <summary>The connect step of the alerts' HTTP client: resolve, keep the permitted addresses, connect to the first that answers.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var permitted = addresses.Where(a => AddressError(host, a) is null).ToList();
        if (permitted.Count == 0)
            throw new HttpRequestException(addresses.Length == 0 ? $"{host} does not resolve" : AddressError(host, addresses[0]));
        SocketException? last = null;
        foreach (var address in permitted)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new HttpRequestException($"{host}:{context.DnsEndPoint.Port} refused the connection", last);
    }

    /// <returns>Null when PortWatch may connect to <paramref name="address"/> for <paramref name="host"/>.</returns>
    public string? AddressError(string host, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (IsAllowListed(host, address))
            return null;
        if (Internal.Any(r => r.Contains(address)))
            return Refusal(host, $"is an internal address ({address})");
        if (ownAddresses.Contains(address))
            return Refusal(host, $"is this machine ({address})");
        return null;
    }

    private bool IsAllowListed(string host, IPAddress? address)
    {
        foreach (var entry in options.Value.AllowedWebhookHosts)
        {
            var allowed = entry.Trim();
            if (allowed.Length == 0)
                continue;
            if (allowed.Equals(host, StringComparison.OrdinalIgnoreCase))
                return true;
            if (address is not null && IpRange.TryParse(allowed, out var range, out _) && range.Contains(address))
                return true;
        }
        return false;
    }

    private static string Refusal(string host, string why) =>
        $"webhook host {host} {why}; an administrator can allow it with Alerts:AllowedWebhookHosts";
}
