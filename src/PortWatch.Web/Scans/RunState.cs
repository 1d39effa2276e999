using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortStatus = PortWatch.Scanning.PortStatus;

namespace PortWatch.Web.Scans;

/// <summary>What a shard had counted before this attempt (a resume after a crash, a takeover), as stored with its checkpoint.</summary>
public readonly record struct ShardCounters(long Sent, long Answered, int Closed, int Filtered);

/// <summary>
/// What one run has seen so far: per-target tallies (for coverage), counters, and the open
/// observations not yet written. Closed and filtered ports are counted, not stored: a scan of all
/// ports would otherwise write 65,535 rows per host.
/// Counters saved with a checkpoint count only results before it (<see cref="CommitThrough"/>):
/// a resume probes everything after the checkpoint again, so counting those twice would make a
/// resumed shard report more answers than it planned probes.
/// </summary>
public sealed class RunState(long runId, TargetSet targets, int portsPerTarget, HashSet<(string Key, int Port, TransportProtocol Protocol)> stored,
    IReadOnlyDictionary<string, long>? answeredBefore = null, Func<TimeSpan>? elapsed = null)
{
    /// <summary>How unlikely (natural log) the silence must be before a target counts as lost: e^-13.8 ≈ one in a million.</summary>
    private const double LostLogLikelihood = -13.8;

    private readonly Dictionary<string, Tally> tallies = [];
    private readonly Func<TimeSpan> clock = elapsed ?? StartClock();
    private TimeSpan? sendingDoneAt;
    private readonly List<PortObservation> pending = [];

    /// <summary>Results at or after the last committed checkpoint, by probe position; UDP results (no checkpoint) wait for the end.</summary>
    private readonly PriorityQueue<(Tally Tally, PortStatus Status, bool Answered), ulong> uncommitted = new();

    public long RunId { get; } = runId;

    /// <summary>The shard whose checkpoint and counters this state keeps.</summary>
    public long ShardId { get; init; }

    /// <summary>The shard's stored counters when this attempt started (zero for a first attempt).</summary>
    public ShardCounters Before { get; init; }

    public TargetSet Targets { get; } = targets;

    public int PortsPerTarget { get; } = portsPerTarget;

    /// <summary>Open ports stored by an earlier attempt of this run (before a resume).</summary>
    public int PreviouslyOpen { get; } = stored.Count;

    /// <summary>Position in the probe order before which every probe has its verdict; a resume starts here.</summary>
    public ulong Checkpoint { get; set; }

    /// <summary>Probes sent by this attempt.</summary>
    public ulong Sent { get; set; }

    /// <summary>Answers seen by this attempt, committed or not (for progress displays).</summary>
    public long Answered { get; private set; }

    public int Open { get; private set; }

    /// <summary>The shard's counters as they may be saved with <see cref="Checkpoint"/>: earlier attempts plus what this one committed.</summary>
    public ShardCounters Committed => new(Before.Sent + (long)Sent, Before.Answered + committedAnswered, Before.Closed + committedClosed, Before.Filtered + committedFiltered);

    public int Pending => pending.Count;

    private long committedAnswered;
    private int committedClosed;
    private int committedFiltered;

    private static Func<TimeSpan> StartClock()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        return () => watch.Elapsed;
    }

    /// <summary>Every probe has been sent once: from here on, silence is only waiting.</summary>
    public void SendingDone() => sendingDoneAt ??= clock();

    public void Record(PortResult result)
    {
        var address = result.Address.ToString();
        if (!tallies.TryGetValue(address, out var tally))
            tallies[address] = tally = new Tally();
        var answered = !result.IsSilence;
        if (answered)
        {
            Answered++;
            tally.Answered++;
            if (result.Protocol == PortProtocol.Tcp)
            {
                tally.TcpAnswered++;
                tally.LastTcpAnswerAt = clock();
            }
        }
        uncommitted.Enqueue((tally, result.Status, answered), result.Protocol == PortProtocol.Tcp ? result.Position : ulong.MaxValue);
        if (result.Status is PortStatus.Open or PortStatus.OpenFiltered)
        {
            if (result.Status == PortStatus.Open)
                Open++;
            var protocol = ScanResultMapping.ToTransport(result.Protocol);
            var key = IpKey.From(result.Address);
            if (stored.Add((key, result.Port, protocol)))
            {
                pending.Add(new PortObservation
                {
                    ScanRunId = RunId,
                    Address = address,
                    AddressKey = key,
                    Port = result.Port,
                    Protocol = protocol,
                    State = ScanResultMapping.ToState(result.Status),
                    Reason = result.Reason,
                    Ttl = result.Ttl,
                    ObservedAt = DateTime.UtcNow,
                });
            }
        }
    }

    /// <summary>Counts every result before <paramref name="checkpoint"/> as saved; call it just before saving counters with that checkpoint.</summary>
    public void CommitThrough(ulong checkpoint)
    {
        while (uncommitted.TryPeek(out var result, out var position) && position < checkpoint)
        {
            uncommitted.Dequeue();
            Commit(result);
        }
    }

    /// <summary>The shard has ended: everything counts (nothing will be probed again).</summary>
    public void CommitAll()
    {
        while (uncommitted.TryDequeue(out var result, out _))
            Commit(result);
    }

    private void Commit((Tally Tally, PortStatus Status, bool Answered) result)
    {
        if (result.Answered)
        {
            committedAnswered++;
            result.Tally.CommittedAnswered++;
        }
        if (result.Status == PortStatus.Closed)
            committedClosed++;
        else if (result.Status == PortStatus.Filtered)
            committedFiltered++;
    }

    /// <summary>Open observations found since the last successful write.</summary>
    public IReadOnlyList<PortObservation> PendingObservations => pending;

    /// <summary>The pending observations are stored.</summary>
    public void ClearPending() => pending.Clear();

    /// <summary>
    /// One row per target of this state (every address, answered or not), counting answers from
    /// earlier attempts too (<paramref name="answeredBefore"/>, by address key), so a target taken
    /// over after a crash keeps what it had shown.
    /// </summary>
    public IEnumerable<ScanTargetCoverage> Coverage(TargetCoverageStatus? final)
    {
        for (ulong i = 0; i < Targets.Count; i++)
        {
            var address = Targets.AddressAt(i);
            var key = IpKey.From(address);
            // At a checkpoint only committed answers count (those after it are probed again on a resume); at the end, all.
            var answered = (tallies.TryGetValue(address.ToString(), out var tally) ? final is null ? tally.CommittedAnswered : tally.Answered : 0)
                + (answeredBefore?.GetValueOrDefault(key) ?? 0);
            var silentSince = final == TargetCoverageStatus.Complete && tally is not null ? SilentPartWay(tally) : null;
            var status = final switch
            {
                null => TargetCoverageStatus.Pending,
                TargetCoverageStatus.Complete when answered == 0 => TargetCoverageStatus.Lost,
                TargetCoverageStatus.Complete when silentSince is not null => TargetCoverageStatus.Lost,
                { } s => s,
            };
            yield return new ScanTargetCoverage
            {
                ScanRunId = RunId,
                Address = address.ToString(),
                AddressKey = key,
                PortsPlanned = PortsPerTarget,
                PortsAnswered = (int)Math.Min(int.MaxValue, answered),
                Status = status,
                Note = status != TargetCoverageStatus.Lost ? null
                    : silentSince is { } since
                        ? $"answered {tally!.TcpAnswered} probes, then nothing from {since.TotalSeconds:0.#} s on while probing went on: blocked or down part-way, what was not seen is unknown"
                        : "no probe was answered: what is open there is unknown",
            };
        }
    }

    /// <summary>
    /// A target's probes are spread evenly over the scan (random order), so its answers should be
    /// too. If all of them came before some moment and probing went on well past it, the chance
    /// of that with a steady target is (last/duration)^answers; below one in a million the target
    /// stopped answering part-way (an anti-scan trap, an outage). Returns when it went silent.
    /// A firewalled host with a couple of open ports answers rarely, so its silence proves nothing.
    /// </summary>
    private TimeSpan? SilentPartWay(Tally tally)
    {
        var end = sendingDoneAt ?? clock();
        if (tally.TcpAnswered == 0 || end <= TimeSpan.Zero)
            return null;
        var last = tally.LastTcpAnswerAt;
        var silence = end - last;
        if (silence < TimeSpan.FromSeconds(2) || silence < end * 0.1)
            return null;
        var fraction = Math.Max(last / end, 1e-9);
        return tally.TcpAnswered * Math.Log(fraction) < LostLogLikelihood ? last : null;
    }

    private sealed class Tally
    {
        public long Answered;
        public long CommittedAnswered;
        public long TcpAnswered;
        public TimeSpan LastTcpAnswerAt;
    }
}
