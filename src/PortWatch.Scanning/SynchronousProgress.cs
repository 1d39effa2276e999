namespace PortWatch.Scanning;

/// <summary>
/// Calls the handler at once, on the reporting thread. Progress&lt;T&gt; posts to the thread pool,
/// so reports could arrive late and out of order; a checkpoint must not overtake the results it
/// covers (see <see cref="ResultStream.CreateScan"/>).
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
