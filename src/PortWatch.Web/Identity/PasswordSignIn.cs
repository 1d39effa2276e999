using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Identity;

/// <summary>
/// The sign-in form's check of a user name and password. Whether or not the user exists, is
/// locked or throttled, the answer is the same message after the same work (one password hash
/// is always verified) and no sooner than <see cref="SignInSessionOptions.FailedSignInMinimumMilliseconds"/>,
/// so neither the text nor the timing tells an attacker which user names are real.
/// Repeated bad passwords throttle the form for that account (Identity's lockout); they never
/// touch the user's API tokens (see <see cref="UserLock"/>).
/// </summary>
public sealed class PasswordSignIn(
    UserManager<PortWatchUser> users,
    SignInManager<PortWatchUser> signIn,
    IPasswordHasher<PortWatchUser> hasher,
    IOptions<SignInSessionOptions> options,
    TimeProvider clock,
    ILogger<PasswordSignIn> logger)
{
    public const string FailureMessage = "Wrong user name or password. After repeated failures, sign-in is refused for a few minutes.";

    // A hash of a random password, verified for unknown user names so that they cost what a real check costs.
    private static readonly Lazy<string> DecoyHash = new(() =>
        new PasswordHasher<PortWatchUser>().HashPassword(new PortWatchUser(), Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));

    /// <returns>True when signed in (the cookie is set on the response).</returns>
    public async Task<bool> SignInAsync(string userName, string password, bool remember)
    {
        var started = Stopwatch.GetTimestamp();
        var succeeded = false;
        try
        {
            succeeded = await TryAsync(userName ?? "", password ?? "", remember);
            return succeeded;
        }
        finally
        {
            if (!succeeded)
            {
                var floor = TimeSpan.FromMilliseconds(options.Value.FailedSignInMinimumMilliseconds);
                var left = floor - Stopwatch.GetElapsedTime(started);
                if (left > TimeSpan.Zero)
                    await Task.Delay(left, clock);
            }
        }
    }

    private async Task<bool> TryAsync(string userName, string password, bool remember)
    {
        var user = userName.Length is > 0 and <= 256 ? await users.FindByNameAsync(userName) : null;
        var verdict = hasher.VerifyHashedPassword(user ?? new PortWatchUser(), user?.PasswordHash ?? DecoyHash.Value, password);
        if (user is null)
        {
            logger.LogWarning("Failed sign-in for an unknown user name");
            return false;
        }
        if (UserLock.IsSignInBlocked(user, clock.GetUtcNow()))
        {
            logger.LogWarning("Refused sign-in for {UserName}: {Lock}", user.UserName, UserLock.IsLockedByAdmin(user) ? "locked by an administrator" : "throttled after failed attempts");
            return false;
        }
        if (verdict == PasswordVerificationResult.Failed)
        {
            await users.AccessFailedAsync(user);
            logger.LogWarning("Failed sign-in for {UserName}", user.UserName);
            return false;
        }
        await users.ResetAccessFailedCountAsync(user);
        await signIn.SignInAsync(user, isPersistent: remember);
        logger.LogInformation("User {UserName} signed in", user.UserName);
        return true;
    }
}
