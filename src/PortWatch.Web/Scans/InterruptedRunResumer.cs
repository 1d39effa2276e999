using PortWatch.Web.Schedules;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Scans;

/// <summary>
/// At start-up, brings the schedules' triggers in step with the database, and gives every run
/// left "running" by a stopped process back to the scheduler, so it
/// continues from its checkpoint instead of starting over. Runs whose job Quartz still holds
/// (being recovered, or running on another cluster node) are left to Quartz.
/// </summary>
public sealed class InterruptedRunResumer(IServiceScopeFactory scopes, ScanQueue queue, ScheduleSynchronizer schedules, IHostApplicationLifetime lifetime, ILogger<InterruptedRunResumer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = ResumeAsync(lifetime.ApplicationStopping));
        return Task.CompletedTask;
    }

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await schedules.SyncAllAsync(cancellationToken);
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PortWatchDbContext>();
            var interrupted = await db.ScanRuns.Where(r => r.Status == ScanRunStatus.Running || r.Status == ScanRunStatus.Queued)
                .Select(r => r.Id).ToListAsync(cancellationToken);
            foreach (var runId in interrupted)
            {
                await queue.ScheduleAsync(runId, cancellationToken);
                logger.LogInformation("Scan run {RunId} handed back to the scheduler after a restart", runId);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Could not resume interrupted scan runs");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
