using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Api;

/// <summary>
/// "Authorization: Bearer pw_..." on any request: the token's owner, with their current roles.
/// Requests without that header fall through to the sign-in cookie (see the policy scheme in
/// <see cref="IdentityServiceCollectionExtensions"/>).
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiTokenService tokens,
    UserManager<PortWatchUser> users,
    IUserClaimsPrincipalFactory<PortWatchUser> principals)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    public static bool HasBearer(HttpContext context) =>
        context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!HasBearer(Context))
            return AuthenticateResult.NoResult();
        var token = Context.Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim();
        var userId = await tokens.ValidateAsync(token, Context.RequestAborted);
        if (userId is null)
            return AuthenticateResult.Fail("the API token is unknown, revoked or expired");
        var user = await users.FindByIdAsync(userId);
        // Only an administrator's lock counts here: failed passwords at the sign-in form must not switch tokens off.
        if (user is null || UserLock.IsLockedByAdmin(user))
            return AuthenticateResult.Fail("the API token's owner is locked or gone");
        var principal = await principals.CreateAsync(user);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}
