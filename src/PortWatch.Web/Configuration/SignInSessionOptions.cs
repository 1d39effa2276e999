using System.ComponentModel.DataAnnotations;

namespace PortWatch.Web.Configuration;

/// <summary>Section "Sessions": how long a sign-in lasts and how soon a change of access reaches it.</summary>
public sealed class SignInSessionOptions
{
    public const string Section = "Sessions";

    /// <summary>
    /// How often a session (cookie or open dashboard) is checked against the user's current state:
    /// a demoted, locked or deleted user loses what they lost within this many seconds.
    /// </summary>
    [Range(1, 3600, ErrorMessage = "Sessions:RevalidationSeconds must be 1 to 3600 (default 60).")]
    public int RevalidationSeconds { get; set; } = 60;

    /// <summary>An idle session ends after this many hours; activity extends it.</summary>
    [Range(1, 720, ErrorMessage = "Sessions:SlidingExpirationHours must be 1 to 720 (default 8).")]
    public int SlidingExpirationHours { get; set; } = 8;

    /// <summary>Any session ends this many hours after sign-in, however active.</summary>
    [Range(1, 720, ErrorMessage = "Sessions:AbsoluteLifetimeHours must be 1 to 720 (default 12).")]
    public int AbsoluteLifetimeHours { get; set; } = 12;

    /// <summary>Sign-in attempts one source address may make per minute (password guessing); the account's own lockout comes on top.</summary>
    [Range(1, 100_000, ErrorMessage = "Sessions:SignInAttemptsPerMinute must be 1 to 100000 (default 10).")]
    public int SignInAttemptsPerMinute { get; set; } = 10;

    /// <summary>Failed sign-ins are answered no sooner than this, so the answer's timing says nothing about the account.</summary>
    [Range(0, 5000, ErrorMessage = "Sessions:FailedSignInMinimumMilliseconds must be 0 to 5000 (default 400).")]
    public int FailedSignInMinimumMilliseconds { get; set; } = 400;
}
