using System.Net;
using System.Net.Sockets;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Inventory.Sources;

/// <summary>Resolves host names; a seam so tests and operators can see what a name resolved to.</summary>
public interface IHostResolver
{
    Task<IPAddress[]> ResolveAsync(string name, CancellationToken cancellationToken);
}

/// <summary>The system resolver (hosts file, then DNS), A and AAAA.</summary>
public sealed class SystemHostResolver : IHostResolver
{
    public Task<IPAddress[]> ResolveAsync(string name, CancellationToken cancellationToken) => Dns.GetHostAddressesAsync(name, AddressFamily.Unspecified, cancellationToken);
}

/// <summary>
/// A list of host names, each resolved at every sync (A and AAAA), so an address a name moves to is
/// followed. A name that does not exist (NXDOMAIN, no address) is reported and its old addresses
/// retire; a lookup that fails for any other reason (timeout, server failure) fails the whole sync,
/// because retiring assets over a flaky resolver would stop their scans.
/// </summary>
public sealed class DnsNamesReader(IHostResolver resolver) : IAssetSourceReader
{
    public AssetSourceKind Kind => AssetSourceKind.Dns;

    public async Task<IReadOnlyList<SourceEntry>> ReadAsync(SourceDefinition source, CancellationToken cancellationToken)
    {
        var names = source.SettingsAs<DnsSourceSettings>().Names.Select(n => n.Trim().TrimEnd('.').ToLowerInvariant()).Where(n => n.Length > 0).Distinct().ToList();
        var entries = new List<SourceEntry>();
        var gone = new List<SourceEntry>();
        foreach (var name in names)
        {
            IPAddress[] addresses;
            try
            {
                addresses = await resolver.ResolveAsync(name, cancellationToken);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
            {
                gone.Add(new SourceEntry(name, null, name));
                continue;
            }
            catch (SocketException ex)
            {
                throw new AssetSourceException($"looking up {name} failed ({ex.SocketErrorCode}); nothing was changed", ex);
            }
            foreach (var address in addresses.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Distinct())
                entries.Add(new SourceEntry($"{name} → {address}", address.ToString(), name, ExternalId: $"{name}/{address}"));
            if (addresses.Length == 0)
                gone.Add(new SourceEntry(name, null, name));
        }
        if (entries.Count == 0)
            throw new AssetSourceException(names.Count == 0 ? "the source lists no names" : "none of the names resolves; an empty answer changes nothing");
        // A name that is gone is a rejected entry in the report, not a failure.
        entries.AddRange(gone.Select(g => g with { Problem = "does not resolve (no such name, or no A/AAAA record)" }));
        return entries;
    }
}
