using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Identity;

/// <summary>Admins create users, change their role and lock or unlock them; each change audited.</summary>
public sealed class UserAdminService(UserManager<PortWatchUser> users, IDbContextFactory<PortWatchDbContext> dbFactory, TimeProvider clock)
{
    public async Task CreateAsync(string userName, string? email, string password, string role, string admin)
    {
        if (!Roles.All.Contains(role))
            throw new InputException(nameof(role), $"unknown role '{role}'");
        var user = new PortWatchUser { UserName = userName?.Trim(), Email = string.IsNullOrWhiteSpace(email) ? null : email.Trim(), CreatedAt = clock.GetUtcNow().UtcDateTime };
        var created = await users.CreateAsync(user, password ?? "");
        if (!created.Succeeded)
            throw new InputException("user", string.Join(" ", created.Errors.Select(e => e.Description)));
        await users.AddToRoleAsync(user, role);
        await AuditAsync(admin, "user.create", user.UserName!, null, new { user.UserName, user.Email, Role = role });
    }

    public async Task SetRoleAsync(string userName, string role, string admin)
    {
        if (!Roles.All.Contains(role))
            throw new InputException(nameof(role), $"unknown role '{role}'");
        var user = await users.FindByNameAsync(userName) ?? throw new InputException("user", $"no user '{userName}'");
        var before = await users.GetRolesAsync(user);
        if (before.Contains(Roles.Admin) && role != Roles.Admin && (await users.GetUsersInRoleAsync(Roles.Admin)).Count == 1)
            throw new InputException(nameof(role), "the last administrator cannot lose the Admin role");
        await users.RemoveFromRolesAsync(user, before);
        await users.AddToRoleAsync(user, role);
        await users.UpdateSecurityStampAsync(user); // open sessions pick up the new role at their next revalidation
        await AuditAsync(admin, "user.role", userName, new { Roles = before }, new { Roles = new[] { role } });
    }

    public async Task SetLockedAsync(string userName, bool locked, string admin)
    {
        var user = await users.FindByNameAsync(userName) ?? throw new InputException("user", $"no user '{userName}'");
        if (locked && string.Equals(userName, admin, StringComparison.OrdinalIgnoreCase))
            throw new InputException("user", "you cannot lock yourself out");
        await users.SetLockoutEnabledAsync(user, true);
        await users.SetLockoutEndDateAsync(user, locked ? DateTimeOffset.MaxValue : null);
        await users.UpdateSecurityStampAsync(user);
        await AuditAsync(admin, locked ? "user.lock" : "user.unlock", userName, null, null);
    }

    private async Task AuditAsync(string admin, string action, string userName, object? before, object? after)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        AuditLog.Record(db, admin, action, "User", userName, before, after, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
    }
}
