using System.Net;
using PortWatch.Scanning.Targets;
using PortWatch.Tests.Shared;

namespace PortWatch.Scanning.Tests.Streams;

public class ResultStreamTests
{
    private static PortResult Result(int i) => new(IPAddress.Loopback, (ushort)(i % 65535 + 1), PortProtocol.Tcp, PortStatus.Closed, "reset", 64);

    /// <summary>
    /// An engine faster than its consumer waits for room instead of queueing every result in memory:
    /// a full-port scan of a large range would otherwise hold millions of results while the consumer
    /// (a database write, a slow disk) catches up.
    /// </summary>
    [Fact]
    public async Task CreateScan_ConsumerBehind_ProducerWaitsForRoom()
    {
        const int total = 3 * ResultStream.ScanChannelCapacity;
        var written = 0;
        var stream = ResultStream.CreateScan(writer => Task.Run(() =>
        {
            for (var i = 0; i < total; i++)
            {
                writer.Result(Result(i));
                Interlocked.Increment(ref written);
            }
        }), progress: null);
        await using var reader = stream.GetAsyncEnumerator();

        Assert.True(await reader.MoveNextAsync());
        var ahead = await Eventually.WaitAsync(() => Task.FromResult(Volatile.Read(ref written)), w => w >= ResultStream.ScanChannelCapacity,
            interval: TimeSpan.FromMilliseconds(20));

        Assert.InRange(ahead, ResultStream.ScanChannelCapacity, ResultStream.ScanChannelCapacity + 2);
        var read = 1;
        while (await reader.MoveNextAsync())
            read++;
        Assert.Equal(total, read);
    }

    /// <summary>A consumer that stops reading releases the engine: its waiting writes give up, and the engine is told to stop.</summary>
    [Fact]
    public async Task CreateScan_ConsumerLeavesEarly_ProducerIsToldToStop()
    {
        var stopped = new TaskCompletionSource();
        var stream = ResultStream.CreateScan(writer => Task.Run(() =>
        {
            for (var i = 0; !writer.Stopped.IsCancellationRequested; i++)
                writer.Result(Result(i));
            stopped.SetResult();
        }), progress: null);

        await foreach (var _ in stream)
            break;

        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }
}
