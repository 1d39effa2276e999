using PortWatch.Web.Data.Entities;
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

    /// <summary>
    /// Why a schedule entered by someone cannot use this cron expression: <see cref="CronError"/>,
    /// and also one that never fires (31 February) or fires more often than once a minute.
    /// </summary>
    public static string? ScheduleCronError(string cron, string timeZoneId)
    {
        if (CronError(cron, timeZoneId) is { } error)
            return error;
        var expression = new CronExpression(cron, TimeZoneInfo.FindSystemTimeZoneById(timeZoneId));
        var times = new List<DateTimeOffset>();
        var from = DateTimeOffset.UtcNow;
        while (times.Count < 20 && expression.GetNextValidTimeAfter(from) is { } next)
        {
            times.Add(next);
            from = next;
        }
        if (times.Count == 0)
            return $"cron expression '{cron}' never fires (is the date impossible, like 31 February?)";
        for (var i = 1; i < times.Count; i++)
        {
            if (times[i] - times[i - 1] < MinimumInterval)
                return $"cron expression '{cron}' fires every {(times[i] - times[i - 1]).TotalSeconds:0} s; a schedule may fire at most once a minute";
        }
        return null;
    }

    /// <summary>The shortest gap between two runs of a schedule.</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(1);

    /// <summary>
    /// When the schedule's next runs will start: its fire times moved to the window's next opening, each start once
    /// (a cron that fires every minute outside a 01:00-05:00 window starts its next run at 01:00, not at each firing).
    /// </summary>
    public static IReadOnlyList<DateTimeOffset> NextStarts(Schedule schedule, DateTimeOffset after, int count)
    {
        var window = ScheduleWindow.Of(schedule);
        var fires = NextFireTimes(schedule.CronExpression, schedule.TimeZoneId, after, window is null ? count : count * 50);
        return fires.Select(t => window?.NextOpening(t) ?? t).Distinct().Take(count).ToList();
    }

    /// <summary>The next fire times of a cron expression in a time zone.</summary>
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
