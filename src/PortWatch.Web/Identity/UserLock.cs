using Microsoft.AspNetCore.Identity;

namespace PortWatch.Web.Identity;

/// <summary>
/// Two kinds of "locked" share Identity's LockoutEnd column and must not be confused:
/// an administrator's lock (LockoutEnd = the end of time) ends every session and token of the
/// user; the password throttle (a few minutes after repeated bad passwords) only slows sign-in
/// through the form, or anyone who knows a user name could switch that user's API tokens off.
/// </summary>
public static class UserLock
{
    public static readonly DateTimeOffset LockedByAdmin = DateTimeOffset.MaxValue;

    public static bool IsLockedByAdmin(IdentityUser user) => user.LockoutEnd is { } end && end.Year >= 9999;

    /// <summary>True while either lock holds: the sign-in form refuses the user.</summary>
    public static bool IsSignInBlocked(IdentityUser user, DateTimeOffset now) => user.LockoutEnabled && user.LockoutEnd is { } end && end > now;
}
