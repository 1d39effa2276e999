using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PortWatch.Scanning.Transport;

/// <summary>
/// The receive side of SYN scanning, one per network namespace, address family and source port
/// in the process, shared by every scan running there: one pair of raw receive sockets (TCP and
/// ICMP, each with its BPF filter) and the socket that holds the source port. Scans that run at
/// the same time on one node (shards, a scan and a re-check) all use the same fixed source port;
/// each opening its own would copy every reply to every scan, and the second could not even
/// hold the port. Each reply goes to every subscribed scan, and each keeps only what its own
/// cookies prove is an answer to it.
///
/// Concurrency: <see cref="Acquire"/> and <see cref="Dispose"/> under the registry's lock; the
/// subscriber list is copied on write, so the receive threads read it without a lock.
/// </summary>
public sealed class SharedReceiver : IDisposable
{
    private static readonly Dictionary<(string Namespace, AddressFamily Family, ushort Port), SharedReceiver> Registry = [];
    private static readonly object RegistryGate = new();

    private readonly (string, AddressFamily, ushort) key;
    private readonly Socket tcp;
    private readonly Socket icmp;
    private readonly Socket portReservation;
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Thread> threads = [];
    private int users;
    private Subscriber[] subscribers = [];
    // Per receive thread (TCP 0, ICMP 1): when it last found its socket empty, and whether it sleeps in poll() now.
    private readonly long[] emptyAt = [Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp()];
    private readonly int[] sleeping = new int[2];
    private int stopped;

    private sealed record Subscriber(PacketHandler? OnPacket, Packet6Handler? OnPacket6);

    private SharedReceiver((string, AddressFamily, ushort) key, AddressFamily family, ushort sourcePort)
    {
        this.key = key;
        var v6 = family == AddressFamily.InterNetworkV6;
        tcp = NewSocket(family, ProtocolType.Tcp, v6 ? ReplyFilter.ForTcp6(sourcePort) : ReplyFilter.ForTcp(sourcePort));
        icmp = NewSocket(family, v6 ? ProtocolType.IcmpV6 : ProtocolType.Icmp, v6 ? ReplyFilter.ForIcmp6(sourcePort) : ReplyFilter.ForIcmp(sourcePort));
        portReservation = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (v6)
                portReservation.DualMode = false;
            portReservation.Bind(new IPEndPoint(v6 ? IPAddress.IPv6Any : IPAddress.Any, sourcePort));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            Close();
            throw new InvalidOperationException($"source port {sourcePort} is in use by a local program; choose another (--source-port)", ex);
        }
        catch
        {
            Close();
            throw;
        }
        foreach (var (socket, isIcmp) in new[] { (tcp, false), (icmp, true) })
        {
            var thread = new Thread(() => ReceiveLoop(socket, v6, isIcmp, isIcmp ? 1 : 0))
            {
                IsBackground = true,
                Name = $"portwatch-receive{(v6 ? "6" : "")}-{socket.ProtocolType}",
                Priority = ThreadPriority.AboveNormal,
            };
            threads.Add(thread);
            thread.Start();
        }
    }

    /// <summary>The receiver of the calling thread's network namespace for this family and port; opened by the first user.</summary>
    public static SharedReceiver Acquire(AddressFamily family, ushort sourcePort)
    {
        var key = (NetworkNamespaceId(), family, sourcePort);
        lock (RegistryGate)
        {
            if (!Registry.TryGetValue(key, out var receiver))
                Registry[key] = receiver = new SharedReceiver(key, family, sourcePort);
            receiver.users++;
            return receiver;
        }
    }

    /// <summary>Gives up one use (one per <see cref="Acquire"/>); the last closes the sockets and frees the source port.</summary>
    public void Dispose()
    {
        lock (RegistryGate)
        {
            if (--users > 0)
                return;
            Registry.Remove(key);
        }
        Close();
    }

    /// <summary>How many receivers are open in this process (for tests).</summary>
    public static int OpenCount
    {
        get
        {
            lock (RegistryGate)
                return Registry.Count;
        }
    }

    public IDisposable Subscribe(PacketHandler onPacket) => Add(new Subscriber(onPacket, null));

    public IDisposable Subscribe(Packet6Handler onPacket) => Add(new Subscriber(null, onPacket));

    private Subscription Add(Subscriber subscriber)
    {
        lock (RegistryGate)
            subscribers = [.. subscribers, subscriber];
        return new Subscription(this, subscriber);
    }

    private sealed class Subscription(SharedReceiver receiver, Subscriber subscriber) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0)
                return;
            lock (RegistryGate)
                receiver.subscribers = [.. receiver.subscribers.Where(s => !ReferenceEquals(s, subscriber))];
        }
    }

    /// <summary>"net:[4026531840]": the namespace the calling thread is in (a test may run threads in several).</summary>
    private static string NetworkNamespaceId()
    {
        try
        {
            return File.ResolveLinkTarget("/proc/thread-self/ns/net", returnFinalTarget: false)?.ToString() ?? "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static Socket NewSocket(AddressFamily family, ProtocolType protocol, byte[] filter)
    {
        var socket = new Socket(family, SocketType.Raw, protocol);
        // Before any packet is queued: only what can answer a probe reaches the process (see ReplyFilter).
        ReplyFilter.Attach(socket, filter);
        // Replies arrive in bursts at tens of thousands per second; a small buffer drops them silently.
        const int SoRcvbufforce = 33;
        try
        {
            socket.SetRawSocketOption((int)SocketOptionLevel.Socket, SoRcvbufforce, BitConverter.GetBytes(16 << 20));
        }
        catch (SocketException)
        {
            socket.ReceiveBufferSize = 16 << 20; // capped by net.core.rmem_max without CAP_NET_ADMIN
        }
        return socket;
    }

    /// <summary>
    /// Reads replies until closed. While replies keep coming the thread polls the socket without sleeping: a sleeping
    /// reader must be woken for every packet, and at 100k replies a second those wake-ups cost the sending thread (whose
    /// system calls run the kernel's receive path) a good part of its time. After 2 ms without a packet it sleeps in
    /// poll() until the next one. IPv6 raw sockets hand over the payload without the IPv6 header; the source comes with it.
    /// </summary>
    private void ReceiveLoop(Socket socket, bool v6, bool isIcmp, int index)
    {
        var buffer = new byte[65536];
        var from = new IPEndPoint(v6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Serialize();
        var spinFor = Stopwatch.Frequency / 500;
        var lastPacket = 0L;
        var token = stopping.Token;
        try
        {
            // IPv4 reads without blocking and without exceptions (the source is in the IP header); IPv6 needs recvfrom's
            // address, whose .NET call throws when there is nothing to read, so it asks first.
            socket.Blocking = v6;
            while (!token.IsCancellationRequested)
            {
                var length = 0;
                var error = SocketError.Success;
                var got = v6
                    ? socket.Available > 0 && (length = socket.ReceiveFrom(buffer, SocketFlags.None, from)) >= 0
                    : (length = socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out error)) >= 0 && error == SocketError.Success;
                if (error is not (SocketError.Success or SocketError.WouldBlock or SocketError.TimedOut or SocketError.Interrupted))
                    return; // closed or failed
                if (!got)
                {
                    var now = Stopwatch.GetTimestamp();
                    Volatile.Write(ref emptyAt[index], now); // everything that came before now is handled
                    if (now - lastPacket < spinFor)
                        Thread.SpinWait(20);
                    else
                    {
                        Volatile.Write(ref sleeping[index], 1);
                        socket.Poll(200_000, SelectMode.SelectRead); // quiet: sleep until a packet comes, waking to notice the end
                        Volatile.Write(ref sleeping[index], 0);
                    }
                    continue;
                }
                lastPacket = Stopwatch.GetTimestamp();
                var packet = buffer.AsSpan(0, length);
                var source = v6 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(from.Buffer.Span[8..]) : 0;
                foreach (var subscriber in Volatile.Read(ref subscribers))
                {
                    if (subscriber.OnPacket is { } onPacket)
                        onPacket(packet);
                    else
                        subscriber.OnPacket6!(packet, source, isIcmp);
                }
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            // closed by the last user
        }
        finally
        {
            Volatile.Write(ref stopped, 1); // nothing more will be read: no silence need wait for it
        }
    }

    /// <summary>
    /// A Stopwatch timestamp before which every packet that reached both sockets has been handed to the subscribers
    /// (<see cref="IPacketTransport.ReceivedUpTo"/>). A thread that spins reading notes each time it finds its socket
    /// empty; one asleep in poll() is up to date unless its socket holds packets (it was not woken yet: descheduled).
    /// </summary>
    public long ReceivedUpTo()
    {
        var now = Stopwatch.GetTimestamp();
        if (Volatile.Read(ref stopped) != 0)
            return now;
        return Math.Min(UpTo(tcp, 0, now), UpTo(icmp, 1, now));
    }

    private long UpTo(Socket socket, int index, long now)
    {
        var empty = Volatile.Read(ref emptyAt[index]);
        if (Volatile.Read(ref sleeping[index]) == 0)
            return empty;
        try
        {
            return socket.Available == 0 ? now : empty;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return now; // closed: nothing more will be read
        }
    }

    private void Close()
    {
        stopping.Cancel();
        tcp?.Dispose();
        icmp?.Dispose();
        portReservation?.Dispose();
        foreach (var thread in threads)
            thread.Join(TimeSpan.FromSeconds(1));
        stopping.Dispose();
    }
}
