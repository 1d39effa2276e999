using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using Quartz;

namespace PortWatch.Web.Schedules;

/// <summary>
/// Keeps Quartz's cron triggers in step with the Schedule rows: one durable job per enabled
/// schedule, its cron read in the schedule's time zone.
///
/// Misfire policy: a schedule whose fire time passed while PortWatch was down fires once as
/// soon as it is back (not once per missed time), then follows its cron again.
/// </summary>
public sealed class ScheduleSynchronizer(IDbContextFactory<PortWatchDbContext> dbFactory, ISchedulerFactory schedulers, ILogger<ScheduleSynchronizer> logger)
{
    public async Task SyncAllAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = await db.Schedules.Select(s => s.Id).ToListAsync(cancellationToken);
        foreach (var id in ids)
            await SyncAsync(id, cancellationToken);
    }

    /// <summary>Creates, updates or removes the trigger of one schedule (call after any change to it).</summary>
    public async Task SyncAsync(int scheduleId, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = ScheduledScanJob.KeyFor(scheduleId);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var schedule = await db.Schedules.AsNoTracking().SingleOrDefaultAsync(s => s.Id == scheduleId, cancellationToken);
        await scheduler.DeleteJob(key, cancellationToken);
        if (schedule is null || !schedule.Enabled)
            return;
        if (CronError(schedule.CronExpression, schedule.TimeZoneId) is { } error)
        {
            logger.LogWarning("Schedule {Schedule} is not scheduled: {Error}", schedule.Name, error);
            return;
        }
        var job = JobBuilder.Create<ScheduledScanJob>()
            .WithIdentity(key)
            .UsingJobData(ScheduledScanJob.ScheduleIdKey, scheduleId)
            .Build();
        var trigger = TriggerBuilder.Create()
            .WithIdentity($"schedule-{scheduleId}-cron", ScheduledScanJob.Group)
            .WithSchedule(CronScheduleBuilder.Create(schedule.CronExpression)
                .InTimeZone(TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZoneId))
                .WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .Build();
        await scheduler.ScheduleJob(job, trigger, cancellationToken: cancellationToken);
    }

    /// <summary>Why a cron expression or time zone cannot be used, or null.</summary>
    public static string? CronError(string cron, string timeZoneId)
    {
        try
        {
            TimeZoneInfo.FindSystemTimeZoneById(timeZoneId);
        }
        catch (TimeZoneNotFoundException)
        {
            return $"unknown time zone '{timeZoneId}'";
        }
        try
        {
            _ = new CronExpression(cron);
            return null;
        }
        catch (FormatException ex)
        {
            return $"cron expression '{cron}': {ex.Message}";
        }
    }

    /// <summary>The next fire times, for display next to a schedule.</summary>
    public static IReadOnlyList<DateTimeOffset> NextFireTimes(string cron, string timeZoneId, DateTimeOffset after, int count)
    {
        if (CronError(cron, timeZoneId) is not null)
            return [];
        var expression = new CronExpression(cron, TimeZoneInfo.FindSystemTimeZoneById(timeZoneId));
        var times = new List<DateTimeOffset>();
        var from = after;
        while (times.Count < count && expression.GetNextValidTimeAfter(from) is { } next)
        {
            times.Add(next);
            from = next;
        }
        return times;
    }
}
