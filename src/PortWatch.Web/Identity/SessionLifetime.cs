using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Identity;

/// <summary>
/// The absolute lifetime of a sign-in. The sliding cookie is renewed by activity; the time of the
/// sign-in itself travels as a claim that is copied whenever the principal is rebuilt (role change
/// picked up by the security-stamp check), so no amount of activity keeps a session past
/// <see cref="SignInSessionOptions.AbsoluteLifetimeHours"/>. The Blazor circuit checks the same claim.
/// </summary>
public static class SessionLifetime
{
    public const string SignedInAtClaim = "portwatch:signed-in-at";

    /// <summary>Cookie event: stamp a fresh sign-in with its time.</summary>
    public static Task OnSigningIn(CookieSigningInContext context)
    {
        var identity = context.Principal?.Identities.FirstOrDefault();
        if (identity is not null && !identity.HasClaim(c => c.Type == SignedInAtClaim))
        {
            var now = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            identity.AddClaim(new Claim(SignedInAtClaim, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Cookie event on every request: past the absolute lifetime the cookie is rejected; otherwise
    /// Identity's security-stamp validator runs (at most every <see cref="SignInSessionOptions.RevalidationSeconds"/>),
    /// which rejects the cookie of a user who was deleted, locked, re-roled or had the password reset.
    /// </summary>
    public static async Task OnValidatePrincipal(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var options = services.GetRequiredService<IOptions<SignInSessionOptions>>().Value;
        if (IsExpired(context.Principal, options, services.GetRequiredService<TimeProvider>().GetUtcNow()))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
            return;
        }
        await SecurityStampValidator.ValidatePrincipalAsync(context);
    }

    /// <summary>Security-stamp validator option: keep the sign-in time on the rebuilt principal.</summary>
    public static Task CopySignInTime(SecurityStampRefreshingPrincipalContext context)
    {
        var signedInAt = context.CurrentPrincipal?.FindFirst(SignedInAtClaim);
        var identity = context.NewPrincipal?.Identities.FirstOrDefault();
        if (signedInAt is not null && identity is not null && !identity.HasClaim(c => c.Type == SignedInAtClaim))
            identity.AddClaim(new Claim(SignedInAtClaim, signedInAt.Value));
        return Task.CompletedTask;
    }

    /// <summary>A principal without the claim (made before this check existed) counts as expired: it signs in again once.</summary>
    public static bool IsExpired(ClaimsPrincipal? principal, SignInSessionOptions options, DateTimeOffset now)
    {
        var value = principal?.FindFirstValue(SignedInAtClaim);
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return true;
        return now - DateTimeOffset.FromUnixTimeSeconds(seconds) > TimeSpan.FromHours(options.AbsoluteLifetimeHours);
    }
}
