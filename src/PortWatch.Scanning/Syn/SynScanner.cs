using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using PortWatch.Scanning.Packets;
using PortWatch.Scanning.Permutation;
using PortWatch.Scanning.Targets;
using PortWatch.Scanning.Transport;

namespace PortWatch.Scanning.Syn;

/// <summary>
/// Stateless-style TCP SYN scanning (masscan's speed) with nmap's verdicts: SYN-ACK is open,
/// RST closed, ICMP unreachable filtered, and silence filtered only after every retransmit.
///
/// The target×port space is visited in a seeded pseudo-random order without stopping: one
/// transmit thread sends new probes at the configured rate and, interleaved with them, re-sends
/// the probes whose wait ran out unanswered (oldest first), until it calls them filtered. The
/// receive threads check each reply's cookie, claim the probe and emit its verdict at once. The
/// probes in flight live in a ring (the window); the checkpoint is the oldest probe without a
/// verdict, so everything before it is in the stream and a resume from it loses nothing.
///
/// Concurrency: a probe's slot in the ring holds its position and its state in one word.
/// Pending becomes Claimed by exactly one compare-exchange (a reply handler, or the transmit
/// thread calling a silence), so every probe gets exactly one verdict; Claimed becomes a verdict
/// only after the verdict is written to the stream, and only the transmit thread reads verdicts
/// to move the checkpoint, so the checkpoint never passes a probe whose verdict is not out. A
/// reply for a probe decided already, or for a slot reused by a later probe, fails the exchange
/// because the word carries the position.
/// </summary>
public sealed class SynScanner
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
    private readonly IPacketTransport? transport;
    private readonly IPacket6Transport? transport6;

    /// <summary>An engine for IPv4 targets.</summary>
    public SynScanner(IPacketTransport transport) => this.transport = transport;

    /// <summary>An engine for IPv6 targets.</summary>
    public SynScanner(IPacket6Transport transport6) => this.transport6 = transport6;

    public async IAsyncEnumerable<PortResult> ScanAsync(
        TargetSet targets,
        IReadOnlyList<ushort> ports,
        ScanOptions options,
        IProgress<ScanProgress>? progress = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var family = transport is not null ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        if (targets.Ranges.Any(r => r.Family != family))
            throw new NotSupportedException(family == AddressFamily.InterNetwork
                ? "this SYN engine has an IPv4 transport: scan IPv6 targets with an IPv6 one (and mixed sets one family at a time)"
                : "this SYN engine has an IPv6 transport: scan IPv4 targets with an IPv4 one (and mixed sets one family at a time)");
        if (ports.Count == 0)
            yield break;

        // The transmit loop is synchronous and busy: it gets a thread of its own.
        var stream = ResultStream.CreateScan(results => Task.Factory.StartNew(
            () => new Run(transport, transport6, targets, ports, options, results, progress is not null).Execute(cancellationToken),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default), progress, cancellationToken);
        await foreach (var result in stream)
            yield return result;
    }

    /// <summary>One scan's state; replies are handled on the transport's receive threads, everything else on the transmit thread.</summary>
    private sealed class Run
    {
        // A slot's word: position << 3 | state. Pending and Claimed are undecided; the others are verdicts.
        private const long Pending = 0, Claimed = 1, VerdictOpen = 4, VerdictClosed = 5, VerdictFiltered = 6, VerdictSilent = 7;
        private const int MostTriesWhileSaturated = 40;
        private const int ResendsPerNewProbe = 4;
        private int resendsInARow;

        private readonly IPacketTransport? transport;
        private readonly IPacket6Transport? transport6;
        private readonly AddressFamily family;
        private readonly TargetSet targets;
        private readonly IReadOnlyList<ushort> ports;
        private readonly ScanOptions options;
        private readonly ScanWriter results;
        private readonly bool reportProgress;
        private readonly IndexPermutation permutation;
        private readonly SynCookie cookie;
        private readonly int[] portIndex = new int[65536];
        private readonly Stopwatch clock = Stopwatch.StartNew();
        // The clock's zero as a Stopwatch timestamp: the transport reports how far it has read in those.
        private readonly long clockOrigin;
        // How far the receive side has read (clock ticks), asked of the transport at most every 50 µs (it may cost a system call).
        private long receivedUpTo, receivedUpToAskedAt = long.MinValue / 2;
        // A receive side this far behind is wedged, not slow: silences are decided by the clock again rather than never.
        private static readonly long MostReceiveLag = 5 * Stopwatch.Frequency;
        // One for the whole scan: new probes and re-sends share it, so the rate holds in every window.
        private readonly TokenBucket bucket;
        // A batching transport holds probes until flushed: before every wait, and every half burst, so the rate holds.
        private readonly Action flush;
        private int flushEvery;
        private readonly RateController rate;
        private long lastRateUpdate;
        // What the rate controller learns from: the probes' answers by first-send cohort.
        private readonly ProbeCohorts cohorts;
        private long lastReportAt;
        private int unflushed;

        // The window: probe slots by position & mask, and the positions in flight in the order they were last sent.
        private readonly long[] slots;
        private readonly long[] sentAt;
        private readonly byte[] tries;
        private readonly long mask;
        private readonly Queue<ulong> inFlight;

        /// <summary>The oldest position without a verdict: the checkpoint. Written by the transmit thread only.</summary>
        private ulong low;
        /// <summary>The next position to probe for the first time. Written by the transmit thread only.</summary>
        private ulong high;
        private long lastNewSentAt;

        private long sent;
        private long retransmits;
        private long received;
        // Answers by whether the probe had been sent once or more: the share that needed a re-send measures the path's loss.
        private long answeredFirstTry;
        private long answeredOnRetry;
        private int openFound;
        private long closedFound;
        // Verdicts before the checkpoint, counted as it passes them (so they match a resume from it exactly).
        private long closedBefore, filteredBefore, silentBefore;
        private long maxRttTicks;
        private (long Sent, TimeSpan At) lastReport;

        public Run(IPacketTransport? transport, IPacket6Transport? transport6, TargetSet targets, IReadOnlyList<ushort> ports, ScanOptions options,
            ScanWriter results, bool reportProgress)
        {
            this.transport = transport;
            this.transport6 = transport6;
            family = transport is not null ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            this.targets = targets;
            this.ports = ports;
            this.options = options;
            this.results = results;
            this.reportProgress = reportProgress;
            permutation = new IndexPermutation(checked(targets.Count * (ulong)ports.Count), options.Seed);
            cookie = new SynCookie(options.Seed ^ 0x5EED_C00C_1E5E_C2E7UL);
            Array.Fill(portIndex, -1);
            for (var i = 0; i < ports.Count; i++)
                portIndex[ports[i]] = i;
            low = high = Math.Min(options.StartPosition, permutation.Size);
            var capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp((long)Math.Min((ulong)options.Window, permutation.Size - low), 64, 1 << 30));
            slots = new long[capacity];
            Array.Fill(slots, -1L); // no position's word
            sentAt = new long[capacity];
            tries = new byte[capacity];
            cohorts = new ProbeCohorts(capacity, options.RatePps);
            mask = capacity - 1;
            inFlight = new Queue<ulong>(capacity);
            bucket = new TokenBucket(options.RatePps);
            flush = Flush;
            flushEvery = Math.Max(1, bucket.Burst / 2);
            rate = new RateController(options.RatePps);
            clockOrigin = Stopwatch.GetTimestamp() - clock.ElapsedTicks;
        }

        private ulong Total => permutation.Size;

        private static long Word(ulong position, long state) => (long)(position << 3) | state;

        public void Execute(CancellationToken cancellationToken)
        {
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, results.Stopped);
            var token = stopping.Token;
            using var receiving = CancellationTokenSource.CreateLinkedTokenSource(token);
            try
            {
                if (transport is not null)
                    transport.StartReceiving(OnPacket, receiving.Token);
                else
                    transport6!.StartReceiving(OnPacket6, receiving.Token);
                var packet = new byte[SynPacket.Length];
                while (!token.IsCancellationRequested)
                {
                    // The transmit thread reports and adapts itself: a timer needs the thread pool, which a busy machine starves.
                    if (clock.ElapsedTicks - lastRateUpdate >= Stopwatch.Frequency / 10)
                        Housekeeping();
                    // Re-sends first, but new probes are not starved by them: the rate controller learns from first tries.
                    if (resendsInARow < ResendsPerNewProbe && SendDue(packet, token))
                    {
                        resendsInARow++;
                        continue;
                    }
                    var moved = AdvanceCheckpoint();
                    if (high < Total && high - low <= (ulong)mask)
                    {
                        SendNew(packet, token);
                        resendsInARow = 0;
                        continue;
                    }
                    if (resendsInARow > 0)
                    {
                        resendsInARow = 0; // no new probe can go: back to the re-sends
                        continue;
                    }
                    if (low >= Total)
                        break;
                    // Report promptly as the checkpoint moves: the timer runs on the thread pool, which can be starved on a
                    // busy machine, and a resumable checkpoint should reach the consumer soon.
                    if (moved && clock.ElapsedTicks - lastReportAt > Stopwatch.Frequency / 20)
                        Report();
                    // The window is full, or every probe is out: wait for the oldest to fall due (or be answered).
                    Idle();
                }
                Flush();
                Report();
            }
            finally
            {
                receiving.Cancel();
            }
        }

        /// <summary>Re-sends (or calls filtered) the oldest probe in flight if its wait is over; false if none is due.</summary>
        private bool SendDue(byte[] packet, CancellationToken cancellationToken)
        {
            var wait = WaitTicks();
            while (inFlight.TryPeek(out var position))
            {
                var slot = (int)((long)position & mask);
                var word = Volatile.Read(ref slots[slot]);
                if (word != Word(position, Pending))
                {
                    inFlight.Dequeue(); // answered meanwhile (or an entry of a slot since reused)
                    continue;
                }
                var now = clock.ElapsedTicks;
                if (now - sentAt[slot] < wait)
                    return false;
                // Due by the clock, but its reply may be waiting unread (this process was descheduled, its receive thread
                // is behind): only the time the receive side has read up to counts as silence.
                if (ReceivedUpTo(now) - sentAt[slot] < wait)
                    return false;
                inFlight.Dequeue();
                var tried = tries[slot];
                if (tried == 2 || (tried == 1 && options.Retries == 0))
                    cohorts.Judge(slot, tries: 0); // unanswered after two tries (or after the only one): says nothing about the loss
                // While the path is saturated a silence is weak evidence: it is re-sent (at the slower rate) instead of decided.
                if (tried < byte.MaxValue - 1 && (RetryAgain(tried) || (options.AdaptRate && tried < MostTriesWhileSaturated && rate.Saturated(clock.Elapsed))))
                {
                    bucket.Take(cancellationToken, flush);
                    tries[slot] = (byte)(tried + 1);
                    Send(position, slot, packet);
                    Interlocked.Increment(ref retransmits);
                    inFlight.Enqueue(position);
                    return true;
                }
                // Silent after every try: filtered, unless a reply claims it this very moment.
                if (Interlocked.CompareExchange(ref slots[slot], Word(position, Claimed), Word(position, Pending)) == Word(position, Pending))
                {
                    if (options.ReportFiltered)
                        ReportSilence(position, tried);
                    Volatile.Write(ref slots[slot], Word(position, VerdictSilent));
                }
                return true;
            }
            return false;
        }

        private void ReportSilence(ulong position, int tried)
        {
            var index = permutation.Permute(position);
            results.Result(new PortResult(targets.AddressAt(index / (ulong)ports.Count), ports[(int)(index % (ulong)ports.Count)],
                PortProtocol.Tcp, PortStatus.Filtered, PortResult.NoResponseAfter(tried), null) { Position = position });
        }

        private void SendNew(byte[] packet, CancellationToken cancellationToken)
        {
            bucket.Take(cancellationToken, flush);
            var position = high;
            var slot = (int)((long)position & mask);
            cohorts.Enter(slot, clock.ElapsedTicks, bucket.PacketsPerSecond);
            tries[slot] = 1;
            sentAt[slot] = clock.ElapsedTicks;
            // The slot is ready before the position is published, and both before the probe leaves: a reply can come at once.
            Volatile.Write(ref slots[slot], Word(position, Pending));
            Volatile.Write(ref high, position + 1);
            Send(position, slot, packet);
            inFlight.Enqueue(position);
            lastNewSentAt = clock.ElapsedTicks;
        }

        /// <summary>Moves the checkpoint over the probes with verdicts, counting them; true if it moved.</summary>
        private bool AdvanceCheckpoint()
        {
            var position = low;
            while (position < high)
            {
                var word = Volatile.Read(ref slots[(int)((long)position & mask)]);
                if ((ulong)word >> 3 != position || (word & 7) < VerdictOpen)
                    break;
                switch (word & 7)
                {
                    case VerdictClosed: closedBefore++; break;
                    case VerdictFiltered: filteredBefore++; break;
                    case VerdictSilent: silentBefore++; break;
                }
                position++;
            }
            if (position == low)
                return false;
            Volatile.Write(ref low, position);
            return true;
        }

        /// <summary>Every 100 ms: a progress report every 250 ms, and the rate the answers ask for.</summary>
        private void Housekeeping()
        {
            var now = clock.ElapsedTicks;
            lastRateUpdate = now;
            if (now - lastReportAt >= (long)(ProgressInterval.TotalSeconds * Stopwatch.Frequency))
            {
                AdvanceCheckpoint();
                Report();
            }
            if (options.AdaptRate)
                AdaptRate(now);
        }

        /// <summary>The rate the answers ask for (<see cref="RateController"/>).</summary>
        private void AdaptRate(long now)
        {
            if (!cohorts.Speak(rate, now, clock.Elapsed))
                return;
            Flush();
            bucket.SetRate(rate.Rate);
            flushEvery = Math.Max(1, bucket.Burst / 2);
        }

        private void Flush()
        {
            if (unflushed == 0)
                return;
            transport?.Flush();
            unflushed = 0;
        }

        private void Idle()
        {
            Flush();
            // A millisecond's sleep is a thousand probes at 1M pps, but the loop only idles when it must wait anyway.
            // Due already but held back: for the next question to the transport, spin; for a receive side that is behind
            // (descheduled, catching up), sleep, and leave it the processor.
            if (inFlight.TryPeek(out var position)
                && WaitTicks() - (clock.ElapsedTicks - sentAt[(int)((long)position & mask)]) is var left && left < Stopwatch.Frequency / 1000
                && (left > 0 || receivedUpTo >= receivedUpToAskedAt))
                Thread.SpinWait(100);
            else
                Thread.Sleep(1);
        }

        /// <summary>
        /// The clock time (ticks) up to which every reply that arrived has been handled: now, unless the transport says its
        /// receive side has unread packets. At most <see cref="MostReceiveLag"/> behind.
        /// </summary>
        private long ReceivedUpTo(long now)
        {
            if (now - receivedUpToAskedAt >= Stopwatch.Frequency / 20_000)
            {
                receivedUpTo = (transport is not null ? transport.ReceivedUpTo() : transport6!.ReceivedUpTo()) - clockOrigin;
                receivedUpToAskedAt = now;
            }
            return Math.Max(Math.Min(receivedUpTo, now), now - MostReceiveLag);
        }

        /// <summary>
        /// Whether a probe still silent after <paramref name="tried"/> tries is sent again: always up to Retries;
        /// then while the chance that a responsive port lost its answer on every try is above 1e-7 (per port: a
        /// 3-host full scan at 3% loss has about 200,000 closed ports to get right), up to MaxRetries. That chance is
        /// the per-try loss to the power of the tries; the loss is the share of answers that needed a re-send, with a
        /// prior of 1% over 100 answers so that a path with few answers yet is not trusted to be clean. When the rate
        /// adapts, the worst loss of the last seconds counts if it is higher: a probe tried while a policer dropped a
        /// fifth of the packets needs ten tries, though the scan as a whole lost only a few percent.
        /// </summary>
        private bool RetryAgain(int tried)
        {
            if (tried <= options.Retries)
                return true;
            if (tried > Math.Max(options.Retries, options.MaxRetries))
                return false;
            var loss = options.AdaptRate ? Math.Max(LossEstimate(), rate.RecentLoss(clock.Elapsed)) : LossEstimate();
            return Math.Pow(loss, tried) > 1e-7;
        }

        private double LossEstimate()
        {
            var late = Interlocked.Read(ref answeredOnRetry);
            var first = Interlocked.Read(ref answeredFirstTry);
            return (late + 1.0) / (first + late + 100.0);
        }

        private void Send(ulong position, int slot, byte[] packet)
        {
            var index = permutation.Permute(position);
            var value = targets.ValueAt(index / (ulong)ports.Count, out _);
            var port = ports[(int)(index % (ulong)ports.Count)];
            if (transport is not null)
            {
                var target = (uint)value;
                SynPacket.Write(packet, transport.SourceAddressFor(target), target, options.SourcePort, port, Cookie(target, port),
                    (ushort)(index * 2654435761UL >> 16), options.Ttl);
                sentAt[slot] = clock.ElapsedTicks;
                transport.Send(packet, target);
            }
            else
            {
                SynPacket6.Write(packet, transport6!.SourceAddressFor(value), value, options.SourcePort, port, Cookie(value, port));
                sentAt[slot] = clock.ElapsedTicks;
                transport6.Send(packet.AsSpan(0, SynPacket6.Length), value);
            }
            Interlocked.Increment(ref sent);
            if (++unflushed >= flushEvery)
                Flush();
        }

        /// <summary>How long a probe waits for its answer: four measured round trips, within [MinimumWait, Timeout]; the full timeout while nothing has answered.</summary>
        private long WaitTicks()
        {
            if (Interlocked.Read(ref received) == 0)
                return (long)(options.Timeout.TotalSeconds * Stopwatch.Frequency);
            var wait = Volatile.Read(ref maxRttTicks) * 4;
            var min = (long)(options.MinimumWait.TotalSeconds * Stopwatch.Frequency);
            var max = (long)(options.Timeout.TotalSeconds * Stopwatch.Frequency);
            return Math.Clamp(wait, Math.Min(min, max), max); // a timeout shorter than the minimum wait wins: the user asked for it
        }

        private void OnPacket(ReadOnlySpan<byte> bytes)
        {
            var reply = ReplyPacket.Parse(bytes);
            if (reply.Kind == ReplyKind.Tcp)
                OnTcpReply(reply.SourceAddress, reply.SourcePort, reply.DestinationPort, reply.Acknowledgment, reply.Flags, reply.Ttl);
            else if (reply.Kind == ReplyKind.IcmpUnreachable)
                OnUnreachable(reply.DestinationAddress, reply.DestinationPort, reply.SourcePort, reply.Sequence, IcmpReason(reply.IcmpCode), reply.Ttl);
        }

        /// <summary>An IPv6 reply; raw IPv6 sockets hand over neither the IPv6 header nor the hop limit, so there is no TTL.</summary>
        private void OnPacket6(ReadOnlySpan<byte> payload, UInt128 source, bool isIcmp)
        {
            var reply = ReplyPacket6.Parse(payload, source, isIcmp);
            if (reply.Kind == ReplyKind.Tcp)
                OnTcpReply(reply.Target, reply.TargetPort, reply.OurPort, reply.Acknowledgment, reply.Flags, null);
            else if (reply.Kind == ReplyKind.IcmpUnreachable)
                OnUnreachable(reply.Target, reply.TargetPort, reply.OurPort, reply.Sequence, Icmp6Reason(reply.IcmpCode), null);
        }

        /// <summary>A TCP segment from a target: SYN-ACK open, RST closed, if it acknowledges our cookie.</summary>
        private void OnTcpReply(UInt128 target, ushort targetPort, ushort ourPort, uint acknowledgment, TcpFlags flags, byte? ttl)
        {
            if (ourPort != options.SourcePort || acknowledgment != Cookie(target, targetPort) + 1)
                return; // some other conversation on this host, or not an answer to us
            if ((flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack))
                Decide(target, targetPort, PortStatus.Open, "syn-ack", ttl);
            else if ((flags & TcpFlags.Rst) != 0)
                Decide(target, targetPort, PortStatus.Closed, "reset", ttl);
        }

        /// <summary>A destination unreachable quoting our probe (its cookie as the sequence): filtered, with the code's name.</summary>
        private void OnUnreachable(UInt128 target, ushort targetPort, ushort ourPort, uint sequence, string reason, byte? ttl)
        {
            if (ourPort != options.SourcePort || sequence != Cookie(target, targetPort))
                return;
            if (reason.Length == 0)
                return; // e.g. "fragmentation needed": says nothing about the port
            Decide(target, targetPort, PortStatus.Filtered, reason, ttl);
        }

        /// <summary>The probe's sequence number: IPv4 and IPv6 targets have cookies of their own kind.</summary>
        private uint Cookie(UInt128 target, ushort port) =>
            family == AddressFamily.InterNetwork ? cookie.Compute((uint)target, port) : cookie.Compute(target, port);

        private static string Icmp6Reason(byte code) => code switch
        {
            0 => "no-route",
            1 => "admin-prohibited",
            2 => "beyond-scope",
            3 => "addr-unreach",
            4 => "port-unreach",
            5 => "policy-fail",
            6 => "reject-route",
            _ => "unreach",
        };

        /// <summary>A reply that proved to answer one of our probes: claim the probe and give it its verdict, unless it has one.</summary>
        private void Decide(UInt128 target, ushort port, PortStatus status, string reason, byte? ttl)
        {
            var pi = portIndex[port];
            if (pi < 0 || !targets.TryIndexOf(family, target, out var targetIndex))
                return;
            var position = permutation.Unpermute(targetIndex * (ulong)ports.Count + (ulong)pi);
            var slot = (int)((long)position & mask);
            var pending = Word(position, Pending);
            // Exactly one claim per probe: a duplicate, a reply to a probe decided already (or never sent in this attempt)
            // finds another word in the slot.
            if (Interlocked.CompareExchange(ref slots[slot], Word(position, Claimed), pending) != pending)
                return;
            Interlocked.Increment(ref received);
            var tried = Volatile.Read(ref tries[slot]);
            Interlocked.Increment(ref tried <= 1 ? ref answeredFirstTry : ref answeredOnRetry);
            cohorts.Judge(slot, tried <= 2 ? tried : 0);
            RecordRtt(clock.ElapsedTicks - Volatile.Read(ref sentAt[slot]));
            if (status == PortStatus.Open)
                Interlocked.Increment(ref openFound);
            else if (status == PortStatus.Closed)
                Interlocked.Increment(ref closedFound);
            if (status == PortStatus.Open || (status == PortStatus.Closed ? options.ReportClosed : options.ReportFiltered))
                results.Result(new PortResult(ToAddress(target), port, PortProtocol.Tcp, status, reason, ttl) { Position = position });
            Volatile.Write(ref slots[slot], Word(position, status switch
            {
                PortStatus.Open => VerdictOpen,
                PortStatus.Closed => VerdictClosed,
                _ => VerdictFiltered,
            }));
        }

        private void RecordRtt(long ticks)
        {
            // A slowly decaying maximum: one slow path widens the wait, and it narrows again over time.
            var previous = Volatile.Read(ref maxRttTicks);
            var next = ticks > previous ? ticks : previous - (previous >> 10);
            Interlocked.CompareExchange(ref maxRttTicks, next, previous);
        }

        private static string IcmpReason(byte code) => code switch
        {
            1 => "host-unreach",
            2 => "proto-unreach",
            3 => "port-unreach",
            9 => "net-prohibited",
            10 => "host-prohibited",
            13 => "admin-prohibited",
            _ => "",
        };

        /// <summary>A snapshot for the consumer, from the transmit thread (so the checkpoint in it is the transmit thread's own).</summary>
        private void Report()
        {
            if (!reportProgress)
                return;
            lastReportAt = clock.ElapsedTicks;
            var elapsed = clock.Elapsed;
            var sentNow = Interlocked.Read(ref sent);
            var probed = high - options.StartPosition;
            // The rate now (since the last report), not the average: a stall or a back-off shows at once.
            var span = (elapsed - lastReport.At).TotalSeconds;
            var pps = span > 0.05 ? (sentNow - lastReport.Sent) / span : elapsed.TotalSeconds > 0 ? sentNow / elapsed.TotalSeconds : 0;
            if (span > 0.05)
                lastReport = (sentNow, elapsed);
            results.Progress(new ScanProgress(Total, probed, (ulong)sentNow, (ulong)Interlocked.Read(ref received), pps, elapsed,
                EstimateRemaining(probed), Volatile.Read(ref openFound), low)
            {
                Retransmits = (ulong)Interlocked.Read(ref retransmits),
                Closed = (ulong)Interlocked.Read(ref closedFound),
                ClosedBeforeCheckpoint = (ulong)closedBefore,
                FilteredBeforeCheckpoint = (ulong)(filteredBefore + silentBefore),
                Rate = rate.Rate,
                RateReason = rate.Reason,
            });
        }

        /// <summary>New probes left at the rate, then the last ones' waits and re-sends; after the last new probe, what is left of those.</summary>
        private TimeSpan? EstimateRemaining(ulong probed)
        {
            if (low >= Total)
                return TimeSpan.Zero;
            var tail = TimeSpan.FromSeconds(WaitTicks() / (double)Stopwatch.Frequency * (options.Retries + 1));
            var remaining = Total - options.StartPosition - Math.Min(probed, Total - options.StartPosition);
            if (remaining > 0)
                return TimeSpan.FromSeconds(remaining / (double)rate.Rate) + tail;
            var since = TimeSpan.FromSeconds((clock.ElapsedTicks - Volatile.Read(ref lastNewSentAt)) / (double)Stopwatch.Frequency);
            return since < tail ? tail - since : TimeSpan.Zero;
        }

        private IPAddress ToAddress(UInt128 value)
        {
            if (family == AddressFamily.InterNetworkV6)
                return IpAddressMath.FromUInt128(value, family);
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)value);
            return new IPAddress(bytes);
        }
    }
}
