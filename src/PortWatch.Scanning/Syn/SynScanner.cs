using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
/// The target×port space is visited in a seeded pseudo-random order, a chunk at a time. The
/// transmit loop sends a chunk at the configured rate; the receive loop, on its own threads,
/// checks each reply's cookie, marks the probe answered and emits its verdict at once. Then
/// only unanswered probes are re-sent, up to the retry count, each round followed by a wait
/// sized from the round trips measured so far. The end of a chunk is a checkpoint.
/// </summary>
public sealed class SynScanner(IPacketTransport transport)
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    public async IAsyncEnumerable<PortResult> ScanAsync(
        TargetSet targets,
        IReadOnlyList<ushort> ports,
        ScanOptions options,
        IProgress<ScanProgress>? progress = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (targets.Ranges.Any(r => r.Family != AddressFamily.InterNetwork))
            throw new NotSupportedException("the SYN engine scans IPv4 targets; IPv6 targets go to the connect engine");
        if (ports.Count == 0)
            yield break;

        // The transmit loop is synchronous and busy: it gets a thread of its own.
        var stream = ResultStream.CreateScan(results => Task.Factory.StartNew(
            () => new Run(transport, targets, ports, options, results, progress is not null).Execute(cancellationToken),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default), progress, cancellationToken);
        await foreach (var result in stream)
            yield return result;
    }

    /// <summary>One scan's state; replies are handled on the transport's receive threads.</summary>
    private sealed class Run
    {
        private readonly IPacketTransport transport;
        private readonly TargetSet targets;
        private readonly IReadOnlyList<ushort> ports;
        private readonly ScanOptions options;
        private readonly ScanWriter results;
        private readonly bool reportProgress;
        private readonly IndexPermutation permutation;
        private readonly SynCookie cookie;
        private readonly int[] portIndex = new int[65536];
        private readonly Stopwatch clock = Stopwatch.StartNew();
        // One for the whole scan: a bucket per round granted a fresh burst at every round's start.
        private readonly TokenBucket bucket;
        private volatile Chunk? current;
        private long sent;
        private long received;
        // Answers by whether they came in the round that first probed them: the share that needed a re-send measures the path's loss.
        private long answeredFirstTry;
        private long answeredOnRetry;
        private int openFound;
        private int round;
        private long maxRttTicks;
        private ulong checkpoint;
        private readonly object reportGate = new();

        public Run(IPacketTransport transport, TargetSet targets, IReadOnlyList<ushort> ports, ScanOptions options,
            ScanWriter results, bool reportProgress)
        {
            this.transport = transport;
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
            checkpoint = options.StartPosition;
            bucket = new TokenBucket(options.RatePps);
        }

        private ulong Total => permutation.Size;

        public void Execute(CancellationToken cancellationToken)
        {
            using var receiving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var reporter = new Timer(_ => Report(), null, ProgressInterval, ProgressInterval);
            try
            {
                transport.StartReceiving(OnPacket, receiving.Token);
                var packet = new byte[SynPacket.Length];
                for (var start = options.StartPosition; start < Total && !cancellationToken.IsCancellationRequested; start += (ulong)options.ChunkSize)
                {
                    var chunk = new Chunk(start, (int)Math.Min((ulong)options.ChunkSize, Total - start));
                    current = chunk;
                    ScanChunk(chunk, packet, cancellationToken);
                    if (cancellationToken.IsCancellationRequested)
                        break;
                    current = null;
                    // No reply handler may mark the chunk once its silences are being reported: each probe gets one verdict,
                    // and every verdict is in the stream before the checkpoint passes it.
                    chunk.Close();
                    ReportUnanswered(chunk);
                    // Every verdict of the chunk is in the stream now; a report after this carries the new checkpoint.
                    Volatile.Write(ref checkpoint, chunk.Start + (ulong)chunk.Length);
                    // Report at every chunk boundary too: the timer runs on the thread pool, which can be
                    // starved on a busy machine, and a resumable checkpoint should reach the consumer promptly.
                    Report();
                }
                Report();
            }
            finally
            {
                receiving.Cancel();
            }
        }

        private void ScanChunk(Chunk chunk, byte[] packet, CancellationToken cancellationToken)
        {
            for (round = 0; ; round++)
            {
                var sentThisRound = 0;
                for (var offset = 0; offset < chunk.Length; offset++)
                {
                    if (chunk.IsAnswered(offset))
                        continue;
                    if ((sentThisRound & 255) == 0 && cancellationToken.IsCancellationRequested)
                        return;
                    bucket.Take(cancellationToken);
                    SendProbe(chunk, offset, packet);
                    sentThisRound++;
                }
                if (sentThisRound == 0)
                    return;
                chunk.Tries = round + 1;
                // Wait for the stragglers of this round, then re-send only what is still unanswered.
                var wait = WaitAfterRound();
                if (cancellationToken.WaitHandle.WaitOne(wait))
                    return;
                if (chunk.AnsweredCount == chunk.Length || !RetryAgain(round + 1))
                    return;
            }
        }

        /// <summary>
        /// Whether the probes still silent after <paramref name="tries"/> tries are sent again: always up to Retries;
        /// then while the chance that a responsive port lost its answer on every try is above 1e-7 (per port: a
        /// 3-host full scan at 3% loss has about 200,000 closed ports to get right), up to MaxRetries. That chance is
        /// the per-try loss to the power of the tries; the loss is the share of answers that needed a re-send, with a
        /// prior of 1% over 100 answers so that a path with few answers yet is not trusted to be clean.
        /// </summary>
        private bool RetryAgain(int tries)
        {
            if (tries <= options.Retries)
                return true;
            if (tries > Math.Max(options.Retries, options.MaxRetries))
                return false;
            var loss = LossEstimate();
            return Math.Pow(loss, tries) > 1e-7;
        }

        private double LossEstimate()
        {
            var late = Interlocked.Read(ref answeredOnRetry);
            var first = Interlocked.Read(ref answeredFirstTry);
            return (late + 1.0) / (first + late + 100.0);
        }

        private void SendProbe(Chunk chunk, int offset, byte[] packet)
        {
            var index = permutation.Permute(chunk.Start + (ulong)offset);
            var target = (uint)targets.ValueAt(index / (ulong)ports.Count, out _);
            var port = ports[(int)(index % (ulong)ports.Count)];
            var source = transport.SourceAddressFor(target);
            SynPacket.Write(packet, source, target, options.SourcePort, port, cookie.Compute(target, port),
                (ushort)(index * 2654435761UL >> 16), options.Ttl);
            chunk.SentAt[offset] = clock.ElapsedTicks;
            transport.Send(packet, target);
            Interlocked.Increment(ref sent);
        }

        private TimeSpan WaitAfterRound()
        {
            var rtt = TimeSpan.FromTicks(Volatile.Read(ref maxRttTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
            var wait = rtt * 4;
            if (wait < options.MinimumWait)
                wait = options.MinimumWait;
            if (wait > options.Timeout)
                wait = options.Timeout;
            // Nothing answered yet (everything filtered, or a slow path): give the full timeout.
            return Interlocked.Read(ref received) == 0 ? options.Timeout : wait;
        }

        private void OnPacket(ReadOnlySpan<byte> bytes)
        {
            var chunk = current;
            if (chunk is null || !chunk.TryEnter())
                return; // between chunks, or the chunk is being retired: a late answer, already reported
            try
            {
                OnReply(chunk, bytes);
            }
            finally
            {
                chunk.Exit();
            }
        }

        private void OnReply(Chunk chunk, ReadOnlySpan<byte> bytes)
        {
            var reply = ReplyPacket.Parse(bytes);
            uint target;
            ushort port;
            PortStatus status;
            string reason;
            byte? ttl;
            switch (reply.Kind)
            {
                case ReplyKind.Tcp:
                    if (reply.DestinationPort != options.SourcePort)
                        return; // some other conversation on this host
                    target = reply.SourceAddress;
                    port = reply.SourcePort;
                    if (reply.Acknowledgment != cookie.Compute(target, port) + 1)
                        return;
                    if ((reply.Flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack))
                        (status, reason) = (PortStatus.Open, "syn-ack");
                    else if ((reply.Flags & TcpFlags.Rst) != 0)
                        (status, reason) = (PortStatus.Closed, "reset");
                    else
                        return;
                    ttl = reply.Ttl;
                    break;
                case ReplyKind.IcmpUnreachable:
                    if (reply.SourcePort != options.SourcePort)
                        return;
                    target = reply.DestinationAddress;
                    port = reply.DestinationPort;
                    if (reply.Sequence != cookie.Compute(target, port))
                        return;
                    reason = IcmpReason(reply.IcmpCode);
                    if (reason.Length == 0)
                        return; // e.g. "fragmentation needed": says nothing about the port
                    status = PortStatus.Filtered;
                    ttl = reply.Ttl;
                    break;
                default:
                    return;
            }

            var pi = portIndex[port];
            if (pi < 0 || !targets.TryIndexOf(AddressFamily.InterNetwork, target, out var targetIndex))
                return;
            var position = permutation.Unpermute(targetIndex * (ulong)ports.Count + (ulong)pi);
            if (position < chunk.Start || position >= chunk.Start + (ulong)chunk.Length)
                return; // a late answer to an earlier chunk, already reported
            var offset = (int)(position - chunk.Start);
            if (!chunk.TryMarkAnswered(offset))
                return; // duplicate: a retransmitted SYN-ACK, or the answer to a retransmit
            Interlocked.Increment(ref received);
            Interlocked.Increment(ref Volatile.Read(ref round) == 0 ? ref answeredFirstTry : ref answeredOnRetry);
            RecordRtt(clock.ElapsedTicks - Volatile.Read(ref chunk.SentAt[offset]));
            if (status == PortStatus.Open)
                Interlocked.Increment(ref openFound);
            results.Result(new PortResult(ToAddress(target), port, PortProtocol.Tcp, status, reason, ttl) { Position = position });
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

        private void ReportUnanswered(Chunk chunk)
        {
            for (var offset = 0; offset < chunk.Length; offset++)
            {
                if (chunk.IsAnswered(offset))
                    continue;
                var index = permutation.Permute(chunk.Start + (ulong)offset);
                var address = targets.AddressAt(index / (ulong)ports.Count);
                var port = ports[(int)(index % (ulong)ports.Count)];
                results.Result(new PortResult(address, port, PortProtocol.Tcp, PortStatus.Filtered, PortResult.NoResponseAfter(chunk.Tries), null) { Position = chunk.Start + (ulong)offset });
            }
        }

        private void Report()
        {
            if (!reportProgress)
                return;
            var elapsed = clock.Elapsed;
            var sentNow = (ulong)Interlocked.Read(ref sent);
            var reached = Volatile.Read(ref checkpoint);
            var done = Math.Max(reached, options.StartPosition + Math.Min(sentNow, Total - options.StartPosition)) - options.StartPosition;
            var remaining = Total - options.StartPosition - Math.Min(done, Total - options.StartPosition);
            var pps = elapsed.TotalSeconds > 0 ? sentNow / elapsed.TotalSeconds : 0;
            TimeSpan? eta = round == 0 && options.RatePps > 0 ? TimeSpan.FromSeconds(remaining / (double)options.RatePps) : null;
            lock (reportGate) // the timer and the final report must not interleave their snapshots
            {
                results.Progress(new ScanProgress(Total, sentNow, (ulong)Interlocked.Read(ref received), pps, elapsed, eta,
                    Volatile.Read(ref openFound), reached, round));
            }
        }

        private static IPAddress ToAddress(uint value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
            return new IPAddress(bytes);
        }
    }

    /// <summary>
    /// The probes of one chunk: who answered, and when each was last sent. Reply handlers enter it
    /// while they may mark a probe answered; <see cref="Close"/> bars new ones and waits for those
    /// inside, so after it no probe's state changes.
    /// </summary>
    private sealed class Chunk(ulong start, int length)
    {
        private readonly ulong[] answered = new ulong[(length + 63) / 64];
        private int answeredCount;
        private int handlers;
        private int closed;

        /// <summary>False once the chunk is closed. A handler that entered must <see cref="Exit"/>.</summary>
        public bool TryEnter()
        {
            // Increment, then look: with Close's exchange-then-look, one of the two always sees the other.
            Interlocked.Increment(ref handlers);
            if (Volatile.Read(ref closed) == 0)
                return true;
            Interlocked.Decrement(ref handlers);
            return false;
        }

        public void Exit() => Interlocked.Decrement(ref handlers);

        public void Close()
        {
            Interlocked.Exchange(ref closed, 1);
            var spin = new SpinWait();
            while (Volatile.Read(ref handlers) != 0)
                spin.SpinOnce(); // a handler is inside for a few microseconds: parsing one reply and writing its result
        }

        public ulong Start { get; } = start;

        public int Length { get; } = length;

        public long[] SentAt { get; } = new long[length];

        public int AnsweredCount => Volatile.Read(ref answeredCount);

        /// <summary>How many times each probe still unanswered has been sent.</summary>
        public int Tries { get; set; }

        public bool IsAnswered(int offset) => (Volatile.Read(ref answered[offset >> 6]) & (1UL << (offset & 63))) != 0;

        public bool TryMarkAnswered(int offset)
        {
            var bit = 1UL << (offset & 63);
            var before = Interlocked.Or(ref answered[offset >> 6], bit);
            if ((before & bit) != 0)
                return false;
            Interlocked.Increment(ref answeredCount);
            return true;
        }
    }
}
