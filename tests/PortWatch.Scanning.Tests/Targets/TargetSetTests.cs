using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Tests.Targets;

public class TargetSetTests
{
    private static IPAddress[] NoDns(string name) => throw new SocketException((int)SocketError.HostNotFound);

    [Fact]
    public void Create_OverlappingTargetsAndExclusions_GivesDisjointRemainder()
    {
        var set = TargetSet.Create(["198.18.0.0/28", "198.18.0.8-198.18.0.20", "198.18.0.3"], ["198.18.0.4/30", "198.18.0.20"], resolve: NoDns);

        Assert.Equal(["198.18.0.0/30", "198.18.0.8-198.18.0.19"], set.Ranges.Select(r => r.ToString()));
        Assert.Equal(16UL, set.Count);
        Assert.Equal(IPAddress.Parse("198.18.0.8"), set.AddressAt(4));
    }

    [Fact]
    public void TryIndexOf_EveryAddress_InvertsAddressAt()
    {
        var set = TargetSet.Create(["198.18.0.250-198.18.1.5", "2001:db8::/126", "10.0.0.1"], resolve: NoDns);

        for (ulong i = 0; i < set.Count; i++)
        {
            Assert.True(set.TryIndexOf(set.AddressAt(i), out var back));
            Assert.Equal(i, back);
        }
        Assert.False(set.TryIndexOf(IPAddress.Parse("198.18.1.6"), out _));
        Assert.False(set.TryIndexOf(IPAddress.Parse("2001:db8::4"), out _));
    }

    [Fact]
    public void Create_HostName_IsResolvedOnce()
    {
        var calls = 0;
        var set = TargetSet.Create(["scanme.example"], resolve: name =>
        {
            calls++;
            return [IPAddress.Parse("198.18.5.5"), IPAddress.Parse("198.18.5.6")];
        });

        Assert.Equal(1, calls);
        Assert.Equal(2UL, set.Count);
    }

    [Fact]
    public void Create_UnresolvableName_FailsNamingIt()
    {
        var ex = Assert.Throws<TargetSpecException>(() => TargetSet.Create(["no-such-host.invalid"], resolve: NoDns));

        Assert.Equal("no-such-host.invalid", ex.Token);
        Assert.Contains("does not resolve", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_OversizedSet_IsRefusedUnlessAllowed()
    {
        var ex = Assert.Throws<TargetSpecException>(() => TargetSet.Create(["10.0.0.0/8"], resolve: NoDns));
        var allowed = TargetSet.Create(["10.0.0.0/8"], maxAddresses: 1UL << 24, resolve: NoDns);

        Assert.Contains("more than the limit", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1UL << 24, allowed.Count);
    }

    [Fact]
    public void Create_ExclusionFileWithComments_IsHonoured()
    {
        var file = "# production load balancers\n198.18.0.1\n198.18.0.2 # the VPN\n\n";

        var set = TargetSet.Create(["198.18.0.0/30"], [file], resolve: NoDns);

        Assert.Equal(["198.18.0.0", "198.18.0.3"], set.Ranges.Select(r => r.ToString()));
    }

    [Fact]
    public void Create_EverythingExcluded_SaysSo()
    {
        var ex = Assert.Throws<TargetSpecException>(() => TargetSet.Create(["198.18.0.1"], ["198.18.0.0/24"], resolve: NoDns));

        Assert.Contains("every target is excluded", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Slice_ConsecutiveShards_CoverEveryAddressOnce()
    {
        var set = TargetSet.Create(["198.18.0.250-198.18.1.5", "198.18.9.9", "2001:db8::/126"], resolve: NoDns);
        var seen = new List<IPAddress>();

        for (ulong first = 0; first < set.Count; first += 3)
        {
            var shard = set.Slice(first, 3);
            for (ulong i = 0; i < shard.Count; i++)
                seen.Add(shard.AddressAt(i));
        }

        Assert.Equal(Enumerable.Range(0, (int)set.Count).Select(i => set.AddressAt((ulong)i)), seen);
    }

    [Fact]
    public void Check_TargetOutsideScope_IsRefusedNamingIt()
    {
        var scope = new ScopeGuard(["198.18.0.0/24", "198.18.1.0/24"]);
        var inside = TargetSet.Create(["198.18.0.0/23"], resolve: NoDns);
        var outside = TargetSet.Create(["198.18.1.250-198.18.2.3"], resolve: NoDns);

        scope.Check(inside); // adjacent allowed blocks merge, so a /23 across both is fine
        var ex = Assert.Throws<TargetSpecException>(() => scope.Check(outside));
        Assert.Equal("198.18.1.250-198.18.2.3", ex.Token);
        Assert.Contains("outside the allowed scope", ex.Message, StringComparison.Ordinal);
    }
}
