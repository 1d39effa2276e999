using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;

namespace PortWatch.Web.Triage;

/// <summary>
/// Rewrites today's Overview figures (<see cref="TrendRecorder"/>) soon after something asked
/// for it, off the asking request: over a million findings the aggregates take about a second,
/// which an import's response should not wait for. Requests that come while one is being
/// written are folded into one more. Concurrency: <see cref="Request"/> from any thread; one
/// loop writes.
/// </summary>
public sealed class TrendRefresher(IDbContextFactory<PortWatchDbContext> dbFactory, TimeProvider clock, ILogger<TrendRefresher> logger) : BackgroundService
{
    private readonly SemaphoreSlim requested = new(0, 1);

    /// <summary>Asks for the figures to be rewritten; returns at once.</summary>
    public void Request()
    {
        try
        {
            requested.Release();
        }
        catch (SemaphoreFullException)
        {
            // one is already asked for: it will see this change too
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await requested.WaitAsync(stoppingToken);
            try
            {
                await TrendRecorder.RecordAsync(dbFactory, clock.GetUtcNow().UtcDateTime, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "The Overview's figures could not be rewritten; the next run or the ten-minute upkeep will");
            }
        }
    }

    public override void Dispose()
    {
        requested.Dispose();
        base.Dispose();
    }
}
