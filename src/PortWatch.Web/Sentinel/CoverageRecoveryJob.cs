using Quartz;

namespace PortWatch.Web.Sentinel;

/// <summary>Fired with the sentinel's interval: recovers the coverage of every lost host. Its own job, so a long wait for a blocking host never delays a pass.</summary>
[DisallowConcurrentExecution]
public sealed class CoverageRecoveryJob(CoverageRecovery recovery, ILogger<CoverageRecoveryJob> logger) : IJob
{
    public static readonly JobKey Key = new("sentinel-recovery", SentinelScheduler.Group);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await recovery.RecoverAllAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Sentinel: coverage recovery failed");
        }
    }
}
