using PortWatch.Web.Configuration;
using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace PortWatch.Web.Identity;

/// <summary>
/// A Blazor circuit lives for hours over one WebSocket, so the cookie's own checks never run
/// again; this re-checks the user every <see cref="SignInSessionOptions.RevalidationSeconds"/> (the
/// same interval as the cookie). A deleted, locked or re-roled user, or a session past its
/// absolute lifetime, turns the circuit anonymous: every page requires sign-in, so the router
/// sends the browser to the login page and the circuit ends.
/// </summary>
public sealed class IdentityRevalidatingAuthenticationStateProvider(
    ILoggerFactory loggerFactory,
    IServiceScopeFactory scopeFactory,
    IOptions<IdentityOptions> options,
    IOptions<SignInSessionOptions> sessions,
    TimeProvider clock)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(sessions.Value.RevalidationSeconds);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortWatchUser>>();
        if (SessionLifetime.IsExpired(authenticationState.User, sessions.Value, clock.GetUtcNow()))
            return false;
        var user = await users.GetUserAsync(authenticationState.User);
        if (user is null || UserLock.IsLockedByAdmin(user))
            return false;
        if (!users.SupportsUserSecurityStamp)
            return true;
        var principalStamp = authenticationState.User.FindFirstValue(options.Value.ClaimsIdentity.SecurityStampClaimType);
        return principalStamp == await users.GetSecurityStampAsync(user);
    }
}
