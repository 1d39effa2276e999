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
    public const string Group = "scan-runs";

    public static JobKey KeyFor(long runId) => new($"run-{runId}", Group);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var runId = context.MergedJobDataMap.GetLong(RunIdKey);
        await using var scope = scopes.CreateAsyncScope();
        try
        {
            await scope.ServiceProvider.GetRequiredService<ScanPipeline>().RunAsync(runId, cancellationToken);
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
