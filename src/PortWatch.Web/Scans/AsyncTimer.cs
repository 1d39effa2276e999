namespace PortWatch.Web.Scans;

/// <summary>
/// Calls an async callback every interval, never two at once (a slow database makes ticks late,
/// not concurrent). Disposing stops it and waits for a tick in progress.
/// </summary>
public sealed class AsyncTimer : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public AsyncTimer(TimeSpan interval, TimeProvider clock, Func<Task> tick, ILogger logger)
    {
        loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(interval, clock);
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    try
                    {
                        await tick();
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        logger.LogWarning(ex, "A periodic task failed");
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }
}
