using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Transport;
using PortWatch.Tests.Shared;

namespace PortWatch.Scanning.Tests.Transport;

/// <summary>
/// How far the real receive side has read (<see cref="RawSocketTransport.ReceivedUpTo"/>), which the
/// engine needs before it calls a silence: behind while a reply waits unread, now once it is read.
/// Root only; every packet here goes to 127.0.0.1.
/// </summary>
public class SharedReceiverTests
{
    private const ushort SourcePort = 61_918;

    [RawSocketFact]
    public async Task ReceivedUpTo_ReplyWaitingBehindABusyHandler_StaysBehindUntilItIsReadThenIsNow()
    {
        using var transport = new RawSocketTransport(SourcePort);
        using var stop = new CancellationTokenSource();
        using var inHandler = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var handled = 0;
        transport.StartReceiving(_ =>
        {
            if (Interlocked.Increment(ref handled) == 1)
            {
                inHandler.Set();
                release.Wait(TimeSpan.FromSeconds(10)); // the receive thread is held, as if descheduled
            }
        }, stop.Token);

        SendSyn(); // the first packet: the handler holds the thread
        Assert.True(inHandler.Wait(TimeSpan.FromSeconds(10)));
        var heldAt = Stopwatch.GetTimestamp();
        SendSyn(); // the second waits unread in the socket (refused, so it has arrived: raw sockets get it before TCP does)
        var behind = transport.ReceivedUpTo();
        release.Set();
        await Eventually.WaitAsync(() => Task.FromResult(Volatile.Read(ref handled)), n => n >= 2, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        var caughtUp = await Eventually.WaitAsync(() => Task.FromResult((Before: Stopwatch.GetTimestamp(), UpTo: transport.ReceivedUpTo())),
            t => t.UpTo >= t.Before, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));
        stop.Cancel();

        Assert.True(behind < heldAt, $"{Stopwatch.GetElapsedTime(behind, heldAt).TotalMilliseconds:F1} ms before the thread was held: should be behind it");
        Assert.True(caughtUp.UpTo >= caughtUp.Before);
    }

    /// <summary>A SYN to the receiver's source port (refused: its reservation socket does not listen).</summary>
    private static void SendSyn()
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            client.Connect(new IPEndPoint(IPAddress.Loopback, SourcePort));
        }
        catch (SocketException)
        {
            // refused, as meant
        }
    }
}
