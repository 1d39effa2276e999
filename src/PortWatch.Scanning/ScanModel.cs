using System.Net;

namespace PortWatch.Scanning;

/// <summary>Port states as nmap names them.</summary>
public enum PortStatus
{
    Open,
    Closed,
    Filtered,
    /// <summary>UDP: no answer, so open or silently filtered.</summary>
    OpenFiltered,
}

/// <summary>One port's verdict and the evidence for it.</summary>
/// <param name="Reason">nmap-style: syn-ack, reset, port-unreach, host-prohibited, no-response, conn-refused, udp-response.</param>
public readonly record struct PortResult(IPAddress Address, ushort Port, Targets.PortProtocol Protocol, PortStatus Status, string Reason, byte? Ttl)
{
    public bool IsOpen => Status is PortStatus.Open or PortStatus.OpenFiltered;

    /// <summary>
    /// The probe's place in the scan order. A consumer that saves counters with a checkpoint counts
    /// only results before it, since a resume from the checkpoint probes everything after it again.
    /// </summary>
    public ulong Position { get; init; }

    /// <summary>No answer at all (lost, dropped, or nobody there), as opposed to an answer such as an ICMP error.</summary>
    public bool IsSilence => IsSilent(Reason);

    public static bool IsSilent(string reason) => reason.StartsWith(NoResponse, StringComparison.Ordinal);

    public const string NoResponse = "no-response";

    private static readonly string[] NoResponseTexts = [.. Enumerable.Range(0, 33).Select(t => t <= 1 ? NoResponse : $"{NoResponse} after {t} tries")];

    /// <summary>"no-response after 6 tries": the reason says how hard the engine tried before calling a silence filtered.</summary>
    public static string NoResponseAfter(int tries) => (uint)tries < NoResponseTexts.Length ? NoResponseTexts[tries] : $"{NoResponse} after {tries} tries";
}

public enum ScanEngine
{
    Auto,
    Syn,
    Connect,
}

public sealed record ScanOptions
{
    /// <summary>Packets (or connection attempts) per second, all targets together. Shared NAT gateways lose state when flooded.</summary>
    public int RatePps { get; init; } = 10_000;

    /// <summary>Re-sends of an unanswered probe before it is called filtered, at least. The SYN engine sends more
    /// (up to <see cref="MaxRetries"/>) while the loss it measures says a silence could still be a lost answer.</summary>
    public int Retries { get; init; } = 3;

    /// <summary>The most re-sends the SYN engine makes on a lossy path; equal to <see cref="Retries"/> turns the adaptation off.</summary>
    public int MaxRetries { get; init; } = 10;

    /// <summary>Longest wait for a reply; the SYN engine waits less when it measures a short round trip.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Shortest wait for stragglers after each round, however short the round trip.</summary>
    public TimeSpan MinimumWait { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>SYN engine: slow down when the answers say the path is saturated (loss rising with the rate, as at a full
    /// NAT conntrack table or a policer), and creep back up to <see cref="RatePps"/> once it is clean again.</summary>
    public bool AdaptRate { get; init; } = true;

    /// <summary>Fixed source port of SYN probes: outside the kernel's ephemeral range, so no local connection can collide with it.</summary>
    public ushort SourcePort { get; init; } = 61_000;

    /// <summary>Seed of the probe order; a resumed scan must use the seed of the original.</summary>
    public ulong Seed { get; init; } = (ulong)Random.Shared.NextInt64();

    /// <summary>Resume point: probes before this position in the order were completed by an earlier run.</summary>
    public ulong StartPosition { get; init; }

    /// <summary>SYN engine: probes in flight at most (sent, not yet decided). The checkpoint is the oldest of them.
    /// Memory is about 29 bytes a slot (its state, last send time, tries, cohort, and its place in the re-send queue); a full
    /// window stalls new probes until the oldest is decided, so it should hold the rate times the longest a silent
    /// probe is waited for (its tries times the wait).</summary>
    public int Window { get; init; } = 1 << 20;

    /// <summary>SYN engine: emit closed ports too. By default they are only counted (<see cref="ScanProgress.Closed"/>):
    /// they are the bulk of a full-port scan and say nothing a count does not.</summary>
    public bool ReportClosed { get; init; }

    /// <summary>SYN engine: emit filtered ports too (ICMP errors and silences). By default they are counted
    /// (<see cref="ScanProgress.FilteredBeforeCheckpoint"/>): a firewall that drops everything makes them the bulk.</summary>
    public bool ReportFiltered { get; init; }

    /// <summary>Connect engine: connection attempts in flight at once.</summary>
    public int Concurrency { get; init; } = 512;

    public byte Ttl { get; init; } = 64;
}

/// <summary>A snapshot for progress displays; <see cref="CheckpointPosition"/> is safe to resume from.</summary>
/// <param name="Probed">Probes sent at least once by this attempt (positions from the start position on).</param>
/// <param name="Sent">Packets sent by this attempt, re-sends included.</param>
/// <param name="PacketsPerSecond">The send rate now (over the last report interval).</param>
public sealed record ScanProgress(
    ulong TotalProbes,
    ulong Probed,
    ulong Sent,
    ulong Received,
    double PacketsPerSecond,
    TimeSpan Elapsed,
    TimeSpan? EstimatedRemaining,
    int OpenFound,
    ulong CheckpointPosition)
{
    /// <summary>Re-sends of probes that had not been answered (included in <see cref="Sent"/>).</summary>
    public ulong Retransmits { get; init; }

    /// <summary>Closed ports found so far (the SYN engine counts them instead of emitting them, unless asked).</summary>
    public ulong Closed { get; init; }

    /// <summary>Closed verdicts before the checkpoint: with the checkpoint, what a resume keeps.</summary>
    public ulong ClosedBeforeCheckpoint { get; init; }

    /// <summary>Filtered verdicts (ICMP errors and silences) before the checkpoint.</summary>
    public ulong FilteredBeforeCheckpoint { get; init; }

    /// <summary>The rate the engine is holding to now (packets per second); below the configured one when it has backed off.</summary>
    public int Rate { get; init; }

    /// <summary>Why the rate is what it is, when it is not the configured one.</summary>
    public string? RateReason { get; init; }
}
