using System.Text;
using System.Text.RegularExpressions;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Probes;

/// <summary>
/// Matches a response against a probe's match lines, then its fallbacks', then (TCP) the NULL
/// probe's, as nmap does. A fallback is looked up by name among the probes of the same protocol
/// first, then among all: nmap's TCP probe DNSVersionBindReqTCP falls back to the UDP probe
/// DNSVersionBindReq, under which every DNS server's pattern is kept. A hard match wins at once;
/// a softmatch names the service and narrows the search to hard matches of that service.
/// </summary>
public static class ServiceMatcher
{
    public static ServiceIdentity? Match(ServiceProbeDatabase database, ServiceProbe probe, ReadOnlySpan<byte> response, string? softService = null)
    {
        if (response.IsEmpty)
            return null;
        var text = Encoding.Latin1.GetString(response);
        ServiceIdentity? soft = null;
        foreach (var candidate in Candidates(database, probe))
        {
            foreach (var match in candidate.Matches)
            {
                if (softService is not null && match.Service != softService)
                    continue;
                if (soft is not null && (match.IsSoft || match.Service != soft.Name))
                    continue;
                Match result;
                try
                {
                    result = match.Pattern.Match(text);
                }
                catch (RegexMatchTimeoutException)
                {
                    continue; // a hostile or pathological banner: this pattern gives no verdict
                }
                if (!result.Success)
                    continue;
                var identity = Identify(match, result, probe.Name);
                if (!match.IsSoft)
                    return identity;
                soft ??= identity;
            }
        }
        return soft;
    }

    private static IEnumerable<ServiceProbe> Candidates(ServiceProbeDatabase database, ServiceProbe probe)
    {
        yield return probe;
        foreach (var name in probe.Fallbacks)
        {
            if ((database.Find(probe.Protocol, name) ?? database.Probes.FirstOrDefault(p => p.Name == name)) is { } fallback && fallback != probe)
                yield return fallback;
        }
        if (probe.Protocol == PortProtocol.Tcp && probe.Name != "NULL" && database.Find(PortProtocol.Tcp, "NULL") is { } nullProbe)
            yield return nullProbe;
    }

    private static ServiceIdentity Identify(ServiceMatch match, Match result, string probeName)
    {
        var v = match.Version;
        return new ServiceIdentity
        {
            Name = match.Service,
            Product = VersionSubstitution.Apply(v.Product, result),
            Version = VersionSubstitution.Apply(v.Version, result),
            ExtraInfo = VersionSubstitution.Apply(v.Info, result),
            Hostname = VersionSubstitution.Apply(v.Hostname, result),
            OsType = VersionSubstitution.Apply(v.OsType, result),
            DeviceType = VersionSubstitution.Apply(v.DeviceType, result),
            Cpes = v.Cpes.Select(c => VersionSubstitution.Apply(c, result)).OfType<string>().ToArray(),
            IsSoftMatch = match.IsSoft,
            Probe = probeName,
            MatchLine = match.Line,
        };
    }
}
