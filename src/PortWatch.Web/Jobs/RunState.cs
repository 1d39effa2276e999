using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortStatus = PortWatch.Scanning.PortStatus;

namespace PortWatch.Web.Jobs;

/// <summary>
/// What one run has seen so far: per-target tallies (for coverage), counters, and the open
/// observations not yet written. Closed and filtered ports are counted, not stored: a scan of all
/// ports would otherwise write 65,535 rows per host.
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

    public long RunId { get; } = runId;

    /// <summary>The shard whose checkpoint and counters this state keeps.</summary>
    public long ShardId { get; init; }

    public TargetSet Targets { get; } = targets;

    public int PortsPerTarget { get; } = portsPerTarget;

    /// <summary>Open ports stored by an earlier attempt of this run (before a resume).</summary>
    public int PreviouslyOpen { get; } = stored.Count;

    public ulong Checkpoint { get; set; }

    public ulong Sent { get; set; }

    public long Answered { get; private set; }

    public int Open { get; private set; }

    public int Closed { get; private set; }

    public int Filtered { get; private set; }

    public int Pending => pending.Count;

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
        var answered = result.Reason != "no-response";
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
        switch (result.Status)
        {
            case PortStatus.Closed: Closed++; break;
            case PortStatus.Filtered: Filtered++; break;
            case PortStatus.Open or PortStatus.OpenFiltered:
                if (result.Status == PortStatus.Open)
                    Open++;
                var protocol = result.Protocol == PortProtocol.Udp ? TransportProtocol.Udp : TransportProtocol.Tcp;
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
                        State = result.Status == PortStatus.Open ? Data.Entities.PortState.Open : Data.Entities.PortState.OpenFiltered,
                        Reason = result.Reason,
                        Ttl = result.Ttl,
                        ObservedAt = DateTime.UtcNow,
                    });
                }
                break;
        }
    }

    public async Task FlushAsync(IDbContextFactory<PortWatchDbContext> dbFactory, DateTime now, CancellationToken cancellationToken)
    {
        if (pending.Count == 0)
            return;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var observation in pending)
            observation.ObservedAt = now;
        db.PortObservations.AddRange(pending);
        await db.SaveChangesAsync(cancellationToken);
        pending.Clear();
    }

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
            var answered = (tallies.TryGetValue(address.ToString(), out var tally) ? tally.Answered : 0)
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
        public long TcpAnswered;
        public TimeSpan LastTcpAnswerAt;
    }
}
