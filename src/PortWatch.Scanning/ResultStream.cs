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
    public static async IAsyncEnumerable<T> Create<T>(Func<ChannelWriter<T>, Task> produce, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
        var producer = Task.Run(async () =>
        {
            try
            {
                await produce(channel.Writer);
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
        await foreach (var item in channel.Reader.ReadAllAsync(CancellationToken.None))
            yield return item;
        await producer;
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
        await foreach (var item in Create<ScanItem>(writer => produce(new ScanWriter(writer)), cancellationToken))
        {
            if (item.Progress is { } report)
                progress?.Report(report);
            else
                yield return item.Result;
        }
    }

    public readonly record struct ScanItem(PortResult Result, ScanProgress? Progress);
}

/// <summary>Where an engine writes its results and progress, in the order they happen.</summary>
public sealed class ScanWriter(ChannelWriter<ResultStream.ScanItem> channel)
{
    public void Result(PortResult result) => channel.TryWrite(new ResultStream.ScanItem(result, null));

    public void Progress(ScanProgress progress) => channel.TryWrite(new ResultStream.ScanItem(default, progress));
}
