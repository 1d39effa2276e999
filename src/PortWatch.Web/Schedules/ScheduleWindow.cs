using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Schedules;

/// <summary>
/// A schedule's allowed time window (e.g. 01:00-05:00 off-peak) in the schedule's time zone.
/// Start after end means the window spans midnight (22:00-04:00). No window: always open.
/// </summary>
public sealed record ScheduleWindow(TimeOnly Start, TimeOnly End, TimeZoneInfo TimeZone)
{
    public static ScheduleWindow? Of(Schedule schedule) =>
        schedule.WindowStart is { } start && schedule.WindowEnd is { } end && start != end
            ? new ScheduleWindow(start, end, TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZoneId))
            : null;

    public bool IsOpen(DateTimeOffset now)
    {
        var local = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, TimeZone).DateTime);
        return Start < End ? local >= Start && local < End : local >= Start || local < End;
    }

    /// <summary>The next moment the window opens (now, if it is open).</summary>
    public DateTimeOffset NextOpening(DateTimeOffset now)
    {
        if (IsOpen(now))
            return now;
        var local = TimeZoneInfo.ConvertTime(now, TimeZone);
        var candidate = new DateTime(DateOnly.FromDateTime(local.DateTime), Start, DateTimeKind.Unspecified);
        if (candidate <= local.DateTime)
            candidate = candidate.AddDays(1);
        return new DateTimeOffset(candidate, TimeZone.GetUtcOffset(candidate));
    }
}

/// <summary>Thrown inside a run when its schedule's window closes: the run pauses and continues at the next opening.</summary>
public sealed class WindowClosedException(DateTimeOffset reopens) : Exception($"the allowed window closed; continuing at {reopens:u}")
{
    public DateTimeOffset Reopens { get; } = reopens;
}
