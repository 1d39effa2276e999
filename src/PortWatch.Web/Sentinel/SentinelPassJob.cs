using Quartz;

namespace PortWatch.Web.Sentinel;

/// <summary>Fired every Sentinel:IntervalMinutes: starts a pass (unless one is still active) and deletes old passes that changed nothing.</summary>
[DisallowConcurrentExecution]
public sealed class SentinelPassJob(SentinelPasses passes, ILogger<SentinelPassJob> logger) : IJob
{
    public static readonly JobKey Key = new("sentinel-pass", SentinelScheduler.Group);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await passes.StartPassAsync(cancellationToken);
            await passes.PruneAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Sentinel: the pass could not be started");
        }
    }
}
