namespace PortWatch.Scanning.Targets;

/// <summary>
/// The list of ranges the organisation is allowed to scan. Scanning someone else's addresses is
/// at best noise and at worst an incident, so anything outside is refused before a packet leaves.
/// An empty scope allows everything (the CLI's default; the web host always configures one).
/// </summary>
public sealed class ScopeGuard
{
    private readonly TargetSet? allowed;

    public ScopeGuard(IEnumerable<string> allowedRanges)
    {
        var specs = TargetSet.Tokens(allowedRanges).ToList();
        allowed = specs.Count == 0 ? null : TargetSet.FromRanges(specs.Select(IpRange.Parse));
    }

    public static ScopeGuard AllowAll { get; } = new([]);

    public bool IsUnrestricted => allowed is null;

    /// <summary>Whether one address may be probed.</summary>
    public bool Allows(System.Net.IPAddress address) => allowed is null || allowed.Ranges.Any(a => a.Contains(address));

    /// <exception cref="TargetSpecException">naming the first target range outside the scope.</exception>
    public void Check(TargetSet targets)
    {
        if (allowed is null)
            return;
        foreach (var range in targets.Ranges)
        {
            // Merged allowed ranges are maximal, so a covered target range lies inside one of them.
            if (!allowed.Ranges.Any(a => a.Covers(range)))
                throw new TargetSpecException(range.ToString(), $"outside the allowed scope ({string.Join(", ", allowed.Ranges)})");
        }
    }
}
