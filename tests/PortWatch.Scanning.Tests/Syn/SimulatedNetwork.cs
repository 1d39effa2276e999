using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using PortWatch.Scanning.Packets;
using PortWatch.Scanning.Transport;

namespace PortWatch.Scanning.Tests.Syn;

public enum SimulatedPort
{
    Closed,
    Open,
    Drop,
    IcmpReject,
}

/// <summary>
/// An <see cref="IPacketTransport"/> that answers SYN probes the way a host's TCP stack and
/// firewall would, with seeded random loss in both directions, so the SYN engine's logic runs
/// without root. It can also inject forged replies (wrong cookie) that must be ignored.
/// </summary>
public sealed class SimulatedNetwork : IPacketTransport
{
    private readonly Dictionary<uint, Func<ushort, SimulatedPort>> hosts = [];
    private readonly BlockingCollection<byte[]> inbound = [];
    private readonly Random random;
    private readonly double loss;
    private readonly object randomLock = new();
    private readonly PriorityQueue<byte[], long> delayed = new();
    private Thread? receiver;
    private Thread? deliverer;

    public SimulatedNetwork(double lossFraction = 0, int seed = 1)
    {
        loss = lossFraction;
        random = new Random(seed);
    }

    public const uint Scanner = 0xC6120001; // 198.18.0.1

    public bool ForgeReplies { get; init; }

    /// <summary>Replies arrive after a random delay in this range (milliseconds), so they overtake each other and come late.</summary>
    public (double Min, double Max)? ReplyDelay { get; init; }

    /// <summary>The share of replies that arrive twice (a retransmitted SYN-ACK, a duplicating path).</summary>
    public double DuplicateFraction { get; init; }

    public int ProbesSeen;

    /// <summary>A policer on the way: probes beyond this rate (with a burst of 1 ms of it) are dropped, as at a full NAT table.</summary>
    public int? PolicerPps { get; init; }

    private double policerTokens;
    private long policerAt;

    private bool Policed()
    {
        if (PolicerPps is not { } pps)
            return false;
        var now = Stopwatch.GetTimestamp();
        var burst = Math.Max(10, pps / 1000.0);
        policerTokens = Math.Min(burst, policerTokens + (now - policerAt) * pps / (double)Stopwatch.Frequency);
        policerAt = now;
        if (policerTokens < 1)
            return true;
        policerTokens--;
        return false;
    }

    /// <summary>
    /// A stall of the scanning process at the n-th probe: that send takes <c>For</c> (the sending thread was descheduled),
    /// and the receive thread reads nothing from then until <c>CatchUp</c> after it (it is the last to run again), while
    /// replies keep arriving in its queue as in a socket's buffer.
    /// </summary>
    public (int AtProbe, TimeSpan For, TimeSpan CatchUp)? Stall { get; init; }

    private readonly ManualResetEventSlim receiverRuns = new(true);
    private long emptyAt = Stopwatch.GetTimestamp();
    // Replies that have arrived (in the queue, as in a socket's buffer) and are not yet handled.
    private int unread;

    /// <summary>Every reply that arrived before this has been handed over: now if none waits unread.</summary>
    public long ReceivedUpTo() => Volatile.Read(ref unread) == 0 ? Stopwatch.GetTimestamp() : Volatile.Read(ref emptyAt);

    private void Arrive(byte[] reply)
    {
        Interlocked.Increment(ref unread);
        inbound.Add(reply);
    }

    /// <summary>When each probe was sent (Stopwatch timestamps), in order.</summary>
    public List<long> SendTimes { get; } = [];

    public void AddHost(string address, Func<ushort, SimulatedPort> ports) =>
        hosts[BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(address).GetAddressBytes())] = ports;

    public uint SourceAddressFor(uint destination) => Scanner;

    public void Send(ReadOnlySpan<byte> packet, uint destination)
    {
        if (Interlocked.Increment(ref ProbesSeen) == Stall?.AtProbe)
        {
            var (_, stalledFor, catchUp) = Stall.Value;
            receiverRuns.Reset();
            Thread.Sleep(stalledFor);
            _ = Task.Delay(catchUp).ContinueWith(_ => receiverRuns.Set(), TaskScheduler.Default);
        }
        lock (SendTimes)
            SendTimes.Add(Stopwatch.GetTimestamp());
        var sourcePort = BinaryPrimitives.ReadUInt16BigEndian(packet[20..]);
        var port = BinaryPrimitives.ReadUInt16BigEndian(packet[22..]);
        var sequence = BinaryPrimitives.ReadUInt32BigEndian(packet[24..]);
        if (ForgeReplies)
            Arrive(Tcp(destination, port, sourcePort, 0, sequence + 12345, TcpFlags.Syn | TcpFlags.Ack));
        if (Policed() || Lost() || !hosts.TryGetValue(destination, out var host))
            return;
        var reply = host(port) switch
        {
            SimulatedPort.Open => Tcp(destination, port, sourcePort, 777, sequence + 1, TcpFlags.Syn | TcpFlags.Ack),
            SimulatedPort.Closed => Tcp(destination, port, sourcePort, 0, sequence + 1, TcpFlags.Rst | TcpFlags.Ack),
            SimulatedPort.IcmpReject => Icmp(destination, packet[..28]),
            _ => null,
        };
        if (reply is null || Lost())
            return;
        Deliver(reply);
        if (DuplicateFraction > 0 && Chance() < DuplicateFraction)
            Deliver(reply);
    }

    private void Deliver(byte[] reply)
    {
        if (ReplyDelay is not { } delay)
        {
            Arrive(reply);
            return;
        }
        var due = Stopwatch.GetTimestamp() + (long)((delay.Min + Chance() * (delay.Max - delay.Min)) * Stopwatch.Frequency / 1000);
        lock (delayed)
            delayed.Enqueue(reply, due);
    }

    /// <summary>Hands delayed replies over at their due time, to the microsecond (a timer's millisecond steps would bunch them).</summary>
    private void DeliverDelayed()
    {
        while (!inbound.IsAddingCompleted)
        {
            byte[]? next = null;
            lock (delayed)
            {
                if (delayed.TryPeek(out var reply, out var due) && due <= Stopwatch.GetTimestamp())
                    next = delayed.Dequeue();
            }
            if (next is null)
            {
                Thread.SpinWait(20);
                continue;
            }
            try
            {
                Arrive(next);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
            {
                return; // the scan is over: a reply after the end goes nowhere, as on a real network
            }
        }
    }

    private double Chance()
    {
        lock (randomLock)
            return random.NextDouble();
    }

    public void StartReceiving(PacketHandler onPacket, CancellationToken cancellationToken)
    {
        receiver = new Thread(() =>
        {
            try
            {
                foreach (var packet in inbound.GetConsumingEnumerable(cancellationToken))
                {
                    receiverRuns.Wait(cancellationToken);
                    onPacket(packet);
                    if (Interlocked.Decrement(ref unread) == 0)
                        Volatile.Write(ref emptyAt, Stopwatch.GetTimestamp());
                }
            }
            catch (OperationCanceledException)
            {
            }
        })
        { IsBackground = true };
        receiver.Start();
        if (ReplyDelay is not null)
        {
            deliverer = new Thread(DeliverDelayed) { IsBackground = true };
            deliverer.Start();
        }
    }

    private bool Lost()
    {
        lock (randomLock)
            return random.NextDouble() < loss;
    }

    private static byte[] Tcp(uint from, ushort fromPort, ushort toPort, uint sequence, uint acknowledgment, TcpFlags flags)
    {
        var packet = new byte[40];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 40);
        packet[8] = 61;
        packet[9] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(12), from);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(16), Scanner);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), fromPort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), toPort);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(24), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(28), acknowledgment);
        packet[32] = 0x50;
        packet[33] = (byte)flags;
        return packet;
    }

    private static byte[] Icmp(uint from, ReadOnlySpan<byte> quotedProbe)
    {
        var packet = new byte[20 + 8 + quotedProbe.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 61;
        packet[9] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(12), from);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(16), Scanner);
        packet[20] = 3; // destination unreachable
        packet[21] = 3; // port unreachable
        quotedProbe.CopyTo(packet.AsSpan(28));
        return packet;
    }

    public void Dispose()
    {
        inbound.CompleteAdding();
        receiver?.Join(TimeSpan.FromSeconds(1));
        deliverer?.Join(TimeSpan.FromSeconds(1));
        inbound.Dispose();
    }
}
