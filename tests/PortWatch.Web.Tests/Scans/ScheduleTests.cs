using PortWatch.Web.Common;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Scanning.Targets;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;
using Quartz;

namespace PortWatch.Web.Tests.Scans;

public class ScheduleTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    [Theory]
    [InlineData("2026-11-22T00:30:00Z", true)]   // 01:30 Berlin: inside 01:00-05:00
    [InlineData("2026-11-22T04:00:00Z", false)]  // 05:00 Berlin: the end is exclusive
    [InlineData("2026-11-21T23:59:00Z", false)]  // 00:59 Berlin
    public void IsOpen_OffPeakWindow_FollowsTheScheduleTimeZone(string utc, bool open)
    {
        var window = new ScheduleWindow(new TimeOnly(1, 0), new TimeOnly(5, 0), Berlin);

        Assert.Equal(open, window.IsOpen(DateTimeOffset.Parse(utc)));
    }

    [Fact]
    public void IsOpen_WindowAcrossMidnight_IsOpenOnBothSides()
    {
        var window = new ScheduleWindow(new TimeOnly(22, 0), new TimeOnly(4, 0), TimeZoneInfo.Utc);

        Assert.True(window.IsOpen(DateTimeOffset.Parse("2026-11-22T23:00:00Z")));
        Assert.True(window.IsOpen(DateTimeOffset.Parse("2026-11-22T03:59:00Z")));
        Assert.False(window.IsOpen(DateTimeOffset.Parse("2026-11-22T12:00:00Z")));
        Assert.Equal(DateTimeOffset.Parse("2026-11-22T22:00:00Z"), window.NextOpening(DateTimeOffset.Parse("2026-11-22T12:00:00Z")));
    }

    [Fact]
    public void NextOpening_AfterTodaysWindow_IsTomorrowInTheScheduleTimeZone()
    {
        var window = new ScheduleWindow(new TimeOnly(1, 0), new TimeOnly(5, 0), Berlin);

        var next = window.NextOpening(DateTimeOffset.Parse("2026-11-22T10:00:00Z"));

        Assert.Equal(DateTimeOffset.Parse("2026-11-23T00:00:00Z"), next.ToUniversalTime()); // 01:00 CET
    }

    [Fact]
    public void NextFireTimes_DailyCronInBerlin_AreAtTwoLocal()
    {
        var times = ScheduleSynchronizer.NextFireTimes("0 0 2 ? * *", "Europe/Berlin", DateTimeOffset.Parse("2026-11-22T10:00:00Z"), 3);

        Assert.Equal(["2026-11-23T01:00:00Z", "2026-11-24T01:00:00Z", "2026-11-25T01:00:00Z"],
            times.Select(t => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ")));
    }

    [Theory]
    [InlineData("0 0 25 ? * *", "UTC", "cron expression")]
    [InlineData("0 0 2 ? * *", "Mars/Olympus", "unknown time zone 'Mars/Olympus'")]
    public void CronError_BadScheduleSettings_AreExplained(string cron, string zone, string message)
    {
        Assert.Contains(message, ScheduleSynchronizer.CronError(cron, zone), StringComparison.Ordinal);
    }

    private static async Task<(int ProfileId, int ScheduleId)> SeedAsync(PortWatchAppFactory app, int port, string cron, TimeOnly? windowStart = null, TimeOnly? windowEnd = null)
    {
        await using var db = await app.CreateDbContextAsync();
        var now = DateTime.UtcNow;
        var asset = new Asset { Name = "loopback", Target = "", RangeStart = "", RangeEnd = "", CreatedAt = now, UpdatedAt = now };
        asset.SetRange(IpRange.Parse("127.0.0.1"));
        var profile = new ScanProfile { Name = $"sched-{Guid.NewGuid():N}", TcpPorts = port.ToString(), Engine = ScanEngineKind.Connect, Retries = 0, TimeoutMs = 500, ServiceDetection = false, CreatedAt = now, UpdatedAt = now };
        db.AddRange(asset, profile);
        await db.SaveChangesAsync();
        var schedule = new Schedule
        {
            Name = $"every-two-seconds-{Guid.NewGuid():N}", CronExpression = cron, TimeZoneId = "UTC", ScanProfileId = profile.Id,
            AssetSelection = ScheduleAssetSelection.All, WindowStart = windowStart, WindowEnd = windowEnd, CreatedAt = now, UpdatedAt = now,
        };
        db.Schedules.Add(schedule);
        await db.SaveChangesAsync();
        return (profile.Id, schedule.Id);
    }

    [Fact]
    public async Task Schedule_TestSpeedCron_FiresAndProducesACompletedRun()
    {
        using var app = new PortWatchAppFactory();
        using var listener = new LoopbackListener();
        var port = listener.Port;
        var (_, scheduleId) = await SeedAsync(app, port, "0/2 * * * * ?");

        await app.Services.GetRequiredService<ScheduleSynchronizer>().SyncAsync(scheduleId);
        var run = await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.ScanRuns.AsNoTracking().FirstOrDefaultAsync(r => r.ScheduleId == scheduleId && r.Status == ScanRunStatus.Completed);
        }, r => r is not null, TimeSpan.FromSeconds(20));

        Assert.NotNull(run);
        Assert.Equal(ScanTrigger.Scheduled, run.Trigger);
        Assert.Equal(1, run.OpenCount);
        await using var check = await app.CreateDbContextAsync();
        Assert.True(await check.PortObservations.AnyAsync(o => o.ScanRunId == run.Id && o.Port == port));
    }

    [Fact]
    public async Task Schedule_FiredOutsideItsWindow_QueuesTheRunForTheNextOpening()
    {
        using var app = new PortWatchAppFactory();
        var now = DateTime.UtcNow;
        // A one-hour window that opened three hours ago (and so is closed now, whatever the time of day).
        var start = TimeOnly.FromDateTime(now.AddHours(-3));
        var (_, scheduleId) = await SeedAsync(app, 9, "0/2 * * * * ?", start, start.AddHours(1));

        await app.Services.GetRequiredService<ScheduleSynchronizer>().SyncAsync(scheduleId);
        var run = await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.ScanRuns.AsNoTracking().FirstOrDefaultAsync(r => r.ScheduleId == scheduleId);
        }, r => r is not null, TimeSpan.FromSeconds(10));

        // Queued with a trigger at the window's next opening (checked below), so nothing can start it before then.
        Assert.NotNull(run);
        await using var after = await app.CreateDbContextAsync();
        Assert.Equal(ScanRunStatus.Queued, (await after.ScanRuns.SingleAsync(r => r.Id == run.Id)).Status);
        var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var trigger = await scheduler.GetTrigger(new TriggerKey($"run-{run.Id}-at", ScanJob.Group));
        Assert.NotNull(trigger);
        var expected = new ScheduleWindow(start, start.AddHours(1), TimeZoneInfo.Utc).NextOpening(DateTimeOffset.UtcNow);
        Assert.True(Math.Abs((trigger.StartTimeUtc - expected).TotalMinutes) < 1, $"starts {trigger.StartTimeUtc:u}, window opens {expected:u}");
    }

    /// <summary>
    /// A cron that fires every two seconds outside its window: one run waits for the window, marked with its start,
    /// and later firings add none (each used to queue another deferred run).
    /// </summary>
    [Fact]
    public async Task Schedule_FiringAgainWhileItsRunWaitsForTheWindow_QueuesNoSecondRun()
    {
        using var app = new PortWatchAppFactory();
        var start = TimeOnly.FromDateTime(DateTime.UtcNow.AddHours(-3));
        var (_, scheduleId) = await SeedAsync(app, 9, "0/2 * * * * ?", start, start.AddHours(1));
        var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

        await app.Services.GetRequiredService<ScheduleSynchronizer>().SyncAsync(scheduleId);
        var firstRun = await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.ScanRuns.AsNoTracking().FirstOrDefaultAsync(r => r.ScheduleId == scheduleId);
        }, r => r is not null, TimeSpan.FromSeconds(10));
        Assert.NotNull(firstRun);
        // Three more firings of the schedule's own trigger.
        var trigger = new TriggerKey($"schedule-{scheduleId}-cron", ScheduledScanJob.Group);
        var queuedAt = DateTimeOffset.UtcNow;
        await Eventually.WaitAsync(async () => (await scheduler.GetTrigger(trigger))?.PreviousFireTimeUtc, t => t > queuedAt.AddSeconds(5), TimeSpan.FromSeconds(20));

        await using var check = await app.CreateDbContextAsync();
        var runs = await check.ScanRuns.AsNoTracking().Where(r => r.ScheduleId == scheduleId).ToListAsync();
        var run = Assert.Single(runs);
        Assert.Equal(ScanRunStatus.Queued, run.Status);
        var opening = new ScheduleWindow(start, start.AddHours(1), TimeZoneInfo.Utc).NextOpening(DateTimeOffset.UtcNow);
        Assert.NotNull(run.PausedUntil);
        Assert.True(Math.Abs((run.PausedUntil.Value - opening.UtcDateTime).TotalMinutes) < 1, $"marked to start {run.PausedUntil:u}, window opens {opening:u}");
        var schedule = await check.Schedules.AsNoTracking().SingleAsync(s => s.Id == scheduleId);
        Assert.Equal(opening.UtcDateTime.ToString("yyyy-MM-dd HH:mm"), ScheduleSynchronizer.NextStarts(schedule, DateTimeOffset.UtcNow, 3)[0].UtcDateTime.ToString("yyyy-MM-dd HH:mm"));
    }

    [Fact]
    public async Task RunNowAsync_ScheduleWithoutAWaitingRun_QueuesOneAndRefusesASecond()
    {
        using var app = new PortWatchAppFactory();
        // A window that is closed now: "Run now" does not wait for it.
        var start = TimeOnly.FromDateTime(DateTime.UtcNow.AddHours(-3));
        var (_, scheduleId) = await SeedAsync(app, 9, "0 0 2 ? * *", start, start.AddHours(1));
        var schedules = app.Services.GetRequiredService<ScheduleService>();

        var runId = await schedules.RunNowAsync(scheduleId, "tester");
        var second = await Assert.ThrowsAsync<InputException>(() => schedules.RunNowAsync(scheduleId, "tester"));

        await using var db = await app.CreateDbContextAsync();
        var run = await db.ScanRuns.AsNoTracking().SingleAsync(r => r.ScheduleId == scheduleId);
        Assert.Equal((runId, null, "tester"), (run.Id, run.PausedUntil, run.RequestedBy));
        Assert.Contains("already has a run", second.Message, StringComparison.Ordinal);
    }
}
