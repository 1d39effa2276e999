using Quartz;

namespace PortWatch.Web.Jobs;

/// <summary>
/// The Quartz job for one scan run (job data "runId"). It requests recovery, so a run on a node
/// that dies is fired again and resumes from its checkpoint. The pipeline records every failure
/// on the run; nothing escapes to the scheduler.
/// </summary>
public sealed class ScanJob(IServiceScopeFactory scopes, ILogger<ScanJob> logger) : IJob
{
    public const string RunIdKey = "runId";
    public const string ShardKey = "shard";
    public const string Group = "scan-runs";

    /// <summary>The run's coordinator job (splits the run) or one shard's job.</summary>
    public static JobKey KeyFor(long runId, int? shard = null) => new(shard is { } s ? $"run-{runId}-shard-{s}" : $"run-{runId}", Group);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var runId = context.MergedJobDataMap.GetLong(RunIdKey);
        int? shard = context.MergedJobDataMap.ContainsKey(ShardKey) ? context.MergedJobDataMap.GetInt(ShardKey) : null;
        await using var scope = scopes.CreateAsyncScope();
        try
        {
            await scope.ServiceProvider.GetRequiredService<ScanPipeline>().RunAsync(runId, shard, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Scan run {RunId} interrupted by shutdown; it resumes from its checkpoint on the next start", runId);
        }
        catch (Exception ex)
        {
            // Last line of defence: the scheduler keeps running whatever a run does.
            logger.LogError(ex, "Scan run {RunId} could not be executed", runId);
        }
    }
}
