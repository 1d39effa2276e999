using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace PortWatch.Scanning;

/// <summary>
/// Turns a producer that writes results as they are found into an async stream: the engines
/// find results on their own threads, the consumer reads them in order of arrival. A failure of
/// the producer surfaces in the consumer; cancellation ends the stream after what was found.
/// </summary>
public static class ResultStream
{
    public static IAsyncEnumerable<T> Create<T>(Func<ChannelWriter<T>, Task> produce, CancellationToken cancellationToken = default) =>
        Create<T>((writer, _) => produce(writer), capacity: null, cancellationToken);

    /// <summary>
    /// With a <paramref name="capacity"/>, a producer that gets ahead of the consumer waits (back-pressure) instead of
    /// queueing without end. The token given to the producer is cancelled when the consumer stops reading (it left the
    /// loop, or the stream ended), so a producer waiting for room gives up.
    /// </summary>
    public static async IAsyncEnumerable<T> Create<T>(Func<ChannelWriter<T>, CancellationToken, Task> produce, int? capacity,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = capacity is { } bound
            ? Channel.CreateBounded<T>(new BoundedChannelOptions(bound) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait })
            : Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
        var consumerGone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                await produce(channel.Writer, consumerGone.Token);
                channel.Writer.TryComplete();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                channel.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                channel.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);
        var readToTheEnd = false;
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(CancellationToken.None))
                yield return item;
            readToTheEnd = true;
        }
        finally
        {
            consumerGone.Cancel();
            if (!readToTheEnd) // the consumer left early: the producer may still be winding down with the token
                _ = producer.ContinueWith(_ => consumerGone.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
        try
        {
            await producer;
        }
        finally
        {
            consumerGone.Dispose();
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// A scan's results with its progress in the same stream: <paramref name="progress"/> is called
    /// on the consumer's side, in order, between the results. A checkpoint in a progress report is
    /// therefore only seen after every result it covers has been handed to the consumer, which is
    /// what makes it safe to persist and resume from.
    /// </summary>
    public static async IAsyncEnumerable<PortResult> CreateScan(Func<ScanWriter, Task> produce, IProgress<ScanProgress>? progress,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in Create<ScanItem>((writer, stopped) => produce(new ScanWriter(writer, stopped)), ScanChannelCapacity, cancellationToken))
        {
            if (item.Progress is { } report)
                progress?.Report(report);
            else
                yield return item.Result;
        }
    }

    /// <summary>Results (and progress reports) waiting for the consumer at most: about 3 MB.</summary>
    public const int ScanChannelCapacity = 65_536;

    public readonly record struct ScanItem(PortResult Result, ScanProgress? Progress);
}

/// <summary>
/// Where an engine writes its results and progress, in the order they happen. A write waits while the stream is full
/// (the consumer is behind), so an engine cannot outrun its consumer's memory; once the consumer has gone, writes are
/// dropped and <see cref="Stopped"/> is cancelled. Safe to call from several threads.
/// </summary>
public sealed class ScanWriter(ChannelWriter<ResultStream.ScanItem> channel, CancellationToken stopped)
{
    /// <summary>Cancelled when the consumer stops reading: an engine should stop too.</summary>
    public CancellationToken Stopped => stopped;

    public void Result(PortResult result) => Write(new ResultStream.ScanItem(result, null));

    public void Progress(ScanProgress progress) => Write(new ResultStream.ScanItem(default, progress));

    /// <summary>A progress snapshot that may be dropped when the stream is full: the next one supersedes it.</summary>
    public void TryProgress(ScanProgress progress) => channel.TryWrite(new ResultStream.ScanItem(default, progress));

    public ValueTask ResultAsync(PortResult result) => WriteAsync(new ResultStream.ScanItem(result, null));

    public ValueTask ProgressAsync(ScanProgress progress) => WriteAsync(new ResultStream.ScanItem(default, progress));

    private void Write(ResultStream.ScanItem item)
    {
        if (channel.TryWrite(item))
            return;
        var waiting = WriteAsync(item);
        if (!waiting.IsCompleted)
            waiting.AsTask().GetAwaiter().GetResult(); // an engine's own thread (transmit, receive): waiting is the back-pressure
    }

    private async ValueTask WriteAsync(ResultStream.ScanItem item)
    {
        try
        {
            await channel.WriteAsync(item, stopped);
        }
        catch (OperationCanceledException) when (stopped.IsCancellationRequested)
        {
            // The consumer has gone (or the scan was cancelled): nobody reads this any more.
        }
        catch (ChannelClosedException)
        {
        }
    }
}
