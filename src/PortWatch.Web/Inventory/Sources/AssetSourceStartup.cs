namespace PortWatch.Web.Inventory.Sources;

/// <summary>Puts every source's trigger in place once the host (and Quartz) has started.</summary>
public sealed class AssetSourceStartup(AssetSourceScheduler scheduler, IHostApplicationLifetime lifetime, ILogger<AssetSourceStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = ScheduleAsync(lifetime.ApplicationStopping));
        return Task.CompletedTask;
    }

    private async Task ScheduleAsync(CancellationToken cancellationToken)
    {
        try
        {
            await scheduler.SyncAllAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Asset sources could not be scheduled");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
