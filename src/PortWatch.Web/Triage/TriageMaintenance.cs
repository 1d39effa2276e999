using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Alerts;
using PortWatch.Web.Data;

namespace PortWatch.Web.Triage;

/// <summary>
/// Every minute: findings whose exception expired go back to the analysts, and alert deliveries
/// that failed are retried when due. A hosted loop rather than a Quartz job, so it never takes a
/// slot of the per-node scan limit (Quartz's thread pool); on several nodes each delivery is
/// still claimed by one node (see <see cref="AlertService.RetryDueAsync"/>).
/// </summary>
public sealed class TriageMaintenance(
    IDbContextFactory<PortWatchDbContext> dbFactory,
    AlertService alerts,
    TimeProvider clock,
    ILogger<TriageMaintenance> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        var ticks = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var lapsed = await ExpireExceptionsAsync(dbFactory, clock.GetUtcNow().UtcDateTime, stoppingToken);
                if (lapsed > 0)
                    logger.LogInformation("{Count} finding(s) changed: their exception expired", lapsed);
                await alerts.RetryDueAsync(stoppingToken);
                if (++ticks % 10 == 1)
                    await TrendRecorder.RecordAsync(dbFactory, clock.GetUtcNow().UtcDateTime, stoppingToken); // triage moves the counts between runs too
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Triage maintenance failed; it runs again in a minute");
            }
        }
    }

    /// <summary>Re-evaluates the findings held by exceptions that have expired; returns how many changed.</summary>
    public static async Task<int> ExpireExceptionsAsync(IDbContextFactory<PortWatchDbContext> dbFactory, DateTime now, CancellationToken cancellationToken)
    {
        List<int> expired;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            expired = await db.ExceptionRules.Where(r => r.ExpiresAt != null && r.ExpiresAt <= now).Select(r => r.Id).ToListAsync(cancellationToken);
        }
        if (expired.Count == 0)
            return 0;
        return await TriageRules.ReevaluateAsync(dbFactory, q => q.Where(f => f.ExceptionRuleId != null && expired.Contains(f.ExceptionRuleId.Value)), now, cancellationToken);
    }
}
