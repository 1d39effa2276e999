using Microsoft.AspNetCore.Components.Authorization;

namespace PortWatch.Web.Identity;

/// <summary>
/// The signed-in user of a Blazor circuit, for role checks inside event handlers: hiding a button
/// is not enough, a crafted event must be refused on the server too.
/// </summary>
public sealed class UserAccess(AuthenticationStateProvider authentication)
{
    public async Task<string> NameAsync() => (await authentication.GetAuthenticationStateAsync()).User.Identity?.Name ?? "unknown";

    /// <summary>Triage and scans: Analyst or Admin.</summary>
    public async Task<bool> CanActAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        return user.IsInRole(Roles.Analyst) || user.IsInRole(Roles.Admin);
    }

    /// <summary>Configuration: Admin.</summary>
    public async Task<bool> IsAdminAsync() => (await authentication.GetAuthenticationStateAsync()).User.IsInRole(Roles.Admin);
}
