using PortWatch.Web.Scans;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using Quartz;

namespace PortWatch.Web.Schedules;

/// <summary>
/// Fired by a schedule's cron trigger: queues a run of the schedule's assets with its profile.
/// Outside the schedule's window the run is queued to start when the window next opens. A schedule
/// has at most one run waiting or running: a cron that fires again meanwhile (every minute, with a
/// window hours away) queued a new deferred run each time, and overlapping runs of one schedule
/// scan the same assets twice.
/// </summary>
public sealed class ScheduledScanJob(IDbContextFactory<PortWatchDbContext> dbFactory, ScanQueue queue, TimeProvider clock, ILogger<ScheduledScanJob> logger) : IJob
{
    public const string ScheduleIdKey = "scheduleId";
    public const string Group = "schedules";

    public static JobKey KeyFor(int scheduleId) => new($"schedule-{scheduleId}", Group);

    /// <summary>A run of the schedule's assets with its profile, as the schedule starts it (or a user, with "Run now").</summary>
    public static async Task<ScanRequest> RequestForAsync(PortWatchDbContext db, Schedule schedule, string requestedBy, CancellationToken cancellationToken) => new()
    {
        ProfileId = schedule.ScanProfileId,
        Trigger = ScanTrigger.Scheduled,
        ScheduleId = schedule.Id,
        RequestedBy = requestedBy,
        AssetIds = schedule.AssetSelection == ScheduleAssetSelection.List ? schedule.AssetIds : [],
        Tag = schedule.AssetSelection == ScheduleAssetSelection.Tag ? schedule.AssetTag : null,
        Targets = schedule.AssetSelection == ScheduleAssetSelection.All
            ? string.Join(',', await db.Assets.Where(a => a.Enabled).Select(a => a.Target).ToListAsync(cancellationToken))
            : null,
    };

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var scheduleId = context.MergedJobDataMap.GetInt(ScheduleIdKey);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var schedule = await db.Schedules.AsNoTracking().SingleOrDefaultAsync(s => s.Id == scheduleId, cancellationToken);
            if (schedule is null || !schedule.Enabled)
                return;
            var pending = await db.ScanRuns.AsNoTracking()
                .Where(r => r.ScheduleId == scheduleId && (r.Status == ScanRunStatus.Queued || r.Status == ScanRunStatus.Running))
                .Select(r => new { r.Id, r.Status }).FirstOrDefaultAsync(cancellationToken);
            if (pending is not null)
            {
                logger.LogInformation("Schedule {Schedule} fired while its run {RunId} is {Status}: no second run", schedule.Name, pending.Id, pending.Status);
                return;
            }
            var request = await RequestForAsync(db, schedule, $"schedule '{schedule.Name}'", cancellationToken);
            var now = clock.GetUtcNow();
            var window = ScheduleWindow.Of(schedule);
            var startAt = window?.NextOpening(now) ?? now;
            var runId = await queue.QueueAsync(request, startAt > now ? startAt : null, cancellationToken);
            logger.LogInformation("Schedule {Schedule} queued run {RunId}{When}", schedule.Name, runId, startAt > now ? $" for {startAt:u} (window)" : "");
        }
        catch (ScanRequestException ex)
        {
            logger.LogWarning("Schedule {ScheduleId} could not queue a run: {Reason}", scheduleId, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Schedule {ScheduleId} failed to fire", scheduleId);
        }
    }
}
