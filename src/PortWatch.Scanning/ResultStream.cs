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
}
