using PortWatch.Web.Common;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Api;

/// <summary>Create a user: the password must meet the policy (at least 10 characters, upper and lower case and a digit).</summary>
public sealed record CreateUserRequest(string UserName, string? Email, string Password, List<string> Roles);

/// <summary>Change a user: any of roles, locked (an administrator's lock ends sessions and tokens), password (a reset).</summary>
public sealed record UpdateUserRequest(List<string>? Roles, bool? Locked, string? Password);

/// <summary>
/// /api/v1/users, Admin only: provisioning and de-provisioning for an identity provider or a
/// script. Each call is audited (UserAdminService); a demoted, locked or deleted user's
/// sessions lose their access within Sessions:RevalidationSeconds, their tokens at once.
/// </summary>
public static class UserEndpoints
{
    public const string AdminPolicy = "admin";

    public static void MapUsers(RouteGroupBuilder group)
    {
        group.RequireAuthorization(AdminPolicy).AddEndpointFilter(TranslateNotFound);

        group.MapGet("/", async (UserAdminService admin, CancellationToken cancellationToken) => TypedResults.Ok(await admin.ListAsync(cancellationToken)))
            .WithSummary("List users with their roles and lock state");

        group.MapPost("/", async (UserAdminService admin, HttpContext context, CreateUserRequest request) =>
        {
            var created = await admin.CreateAsync(request.UserName, request.Email, request.Password, request.Roles, Name(context));
            return TypedResults.Created($"/api/v1/users/{Uri.EscapeDataString(created.UserName)}", created);
        }).WithSummary("Create a user with roles (Admin, Analyst, Viewer)");

        group.MapPut("/{userName}", async (UserAdminService admin, HttpContext context, string userName, UpdateUserRequest request) =>
        {
            if (request.Roles is null && request.Locked is null && request.Password is null)
                throw new InputException("request", "give roles, locked or password");
            if (request.Roles is not null)
                await admin.SetRolesAsync(userName, request.Roles, Name(context));
            if (request.Locked is { } locked)
                await admin.SetLockedAsync(userName, locked, Name(context));
            if (request.Password is not null)
                await admin.ResetPasswordAsync(userName, request.Password, Name(context));
            return TypedResults.Ok((await admin.ListAsync()).Single(u => string.Equals(u.UserName, userName, StringComparison.OrdinalIgnoreCase)));
        }).WithSummary("Change a user's roles, lock or unlock them, or reset their password");

        group.MapDelete("/{userName}", async (UserAdminService admin, HttpContext context, string userName) =>
        {
            await admin.DeleteAsync(userName, Name(context));
            return TypedResults.NoContent();
        }).WithSummary("Delete a user and revoke their API tokens");
    }

    private static string Name(HttpContext context) => context.User.Identity?.Name ?? "unknown";

    private static async ValueTask<object?> TranslateNotFound(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (UserNotFoundException ex)
        {
            return Results.Problem(statusCode: 404, title: $"no user '{Scanning.SafeText.ForTerminal(ex.UserName, 100)}'");
        }
    }
}
