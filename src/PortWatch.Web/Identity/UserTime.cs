using System.Globalization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;

namespace PortWatch.Web.Identity;

/// <summary>
/// Times as the signed-in user reads them: one format everywhere ("2026-12-01 08:00"), in the
/// time zone the user chose on the Profile page (UTC until they choose). Scoped to the circuit;
/// the zone is read once, the first time a time is shown. Stored times stay UTC.
/// </summary>
public sealed class UserTime(AuthenticationStateProvider authentication, IDbContextFactory<PortWatchDbContext> dbFactory)
{
    public const string Format = "yyyy-MM-dd HH:mm";

    private TimeZoneInfo? zone;

    public TimeZoneInfo Zone => zone ??= Load();

    /// <summary>"UTC" or the zone's IANA name, for labels such as "times in Europe/Berlin".</summary>
    public string ZoneName => Zone == TimeZoneInfo.Utc ? "UTC" : Zone.Id;

    /// <summary>A stored (UTC) time in the user's zone, without the zone: for tables whose header or page names it.</summary>
    public string Short(DateTime? utc) => utc is { } t ? Local(t).ToString(Format, CultureInfo.InvariantCulture) : "";

    /// <summary>A stored (UTC) time in the user's zone with the zone's offset or "UTC", for prose.</summary>
    public string Long(DateTime? utc)
    {
        if (utc is not { } t)
            return "";
        var local = Local(t);
        if (Zone == TimeZoneInfo.Utc)
            return local.ToString(Format, CultureInfo.InvariantCulture) + " UTC";
        var offset = Zone.GetUtcOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc));
        return local.ToString(Format, CultureInfo.InvariantCulture) + " " + (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString(@"hh\:mm", CultureInfo.InvariantCulture);
    }

    /// <summary>A time the user typed or picked in their zone, as UTC for storing.</summary>
    public DateTime ToUtc(DateTime local) =>
        local.Kind == DateTimeKind.Utc ? local : TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), Zone);

    public DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), Zone);

    /// <summary>After the user picked another zone on this circuit.</summary>
    public void Use(TimeZoneInfo chosen) => zone = chosen;

    /// <summary>The zone named, or null when this machine does not know it.</summary>
    public static TimeZoneInfo? Find(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
            return TimeZoneInfo.Utc;
        return TimeZoneInfo.TryFindSystemTimeZoneById(id.Trim(), out var found) ? found : null;
    }

    private TimeZoneInfo Load()
    {
        // The server's authentication state is already known when a component renders; a time is never worth waiting for it.
        var state = authentication.GetAuthenticationStateAsync();
        if (!state.IsCompletedSuccessfully || state.Result.User.Identity?.Name is not { } name)
            return TimeZoneInfo.Utc;
        using var db = dbFactory.CreateDbContext();
        var id = db.Users.AsNoTracking().Where(u => u.UserName == name).Select(u => u.TimeZone).FirstOrDefault();
        return Find(id) ?? TimeZoneInfo.Utc;
    }
}
