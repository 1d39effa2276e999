using Quartz;

namespace PortWatch.Web.Scans;

/// <summary>
/// The Quartz job for one scan run (job data "runId"): its coordinator, one of its shards ("shard"),
/// or a look at finalising it ("finalize"). Jobs request recovery, so work on a node that dies is
/// fired again elsewhere and resumes from its checkpoint (leases decide who may work on what).
/// Failures are recorded on the run; nothing escapes to the scheduler.
/// </summary>
public sealed class ScanJob(IServiceScopeFactory scopes, ILogger<ScanJob> logger) : IJob
{
    public const string RunIdKey = "runId";
    public const string ShardKey = "shard";
    public const string FinalizeKey = "finalize";
    public const string Group = "scan-runs";

    /// <summary>The run's coordinator job (splits the run) or one shard's job.</summary>
    public static JobKey KeyFor(long runId, int? shard = null) => new(shard is { } s ? $"run-{runId}-shard-{s}" : $"run-{runId}", Group);

    /// <summary>The job that looks at finalising the run again (the lease holder may have died).</summary>
    public static JobKey FinalizeKeyFor(long runId) => new($"run-{runId}-finalize", Group);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var runId = context.MergedJobDataMap.GetLong(RunIdKey);
        int? shard = context.MergedJobDataMap.ContainsKey(ShardKey) ? context.MergedJobDataMap.GetInt(ShardKey) : null;
        var finalize = context.MergedJobDataMap.ContainsKey(FinalizeKey);
        await using var scope = scopes.CreateAsyncScope();
        try
        {
            if (finalize)
                await scope.ServiceProvider.GetRequiredService<RunFinalizer>().TryFinalizeAsync(runId, cancellationToken);
            else if (shard is { } index)
                await scope.ServiceProvider.GetRequiredService<ShardRunner>().RunAsync(runId, index, cancellationToken);
            else
                await scope.ServiceProvider.GetRequiredService<RunCoordinator>().RunAsync(runId, cancellationToken);
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
