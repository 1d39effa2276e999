using PortWatch.Web.Common;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Identity;

/// <summary>A user as an administrator sees it (never a password hash or stamp).</summary>
public sealed record UserInfo(string UserName, string? Email, IReadOnlyList<string> Roles, bool Locked, DateTimeOffset? ThrottledUntil, DateTime CreatedAt);

/// <summary>
/// Admins create users, change their roles, lock, unlock, reset passwords and delete them, from the
/// Settings page or the API (so an identity provider or a script can provision analysts); each
/// change is audited. Every change of access also changes the user's security stamp, so open
/// sessions lose what the user lost at their next revalidation (Sessions:RevalidationSeconds),
/// and API tokens, which are checked on every request, at once.
/// </summary>
public sealed class UserAdminService(UserManager<PortWatchUser> users, IDbContextFactory<PortWatchDbContext> dbFactory, TimeProvider clock)
{
    public async Task<List<UserInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var roleNames = await db.Roles.AsNoTracking().ToDictionaryAsync(r => r.Id, r => r.Name ?? r.Id, cancellationToken);
        var memberships = (await db.UserRoles.AsNoTracking().ToListAsync(cancellationToken)).ToLookup(m => m.UserId, m => roleNames.GetValueOrDefault(m.RoleId, m.RoleId));
        var now = clock.GetUtcNow();
        return (await db.Users.AsNoTracking().OrderBy(u => u.UserName).ToListAsync(cancellationToken))
            .Select(u => new UserInfo(u.UserName ?? u.Id, u.Email, Ordered(memberships[u.Id]), UserLock.IsLockedByAdmin(u),
                !UserLock.IsLockedByAdmin(u) && u.LockoutEnd > now ? u.LockoutEnd : null, u.CreatedAt))
            .ToList();
    }

    public Task CreateAsync(string userName, string? email, string password, string role, string admin) =>
        CreateAsync(userName, email, password, [role], admin);

    public async Task<UserInfo> CreateAsync(string userName, string? email, string password, IReadOnlyList<string>? roles, string admin)
    {
        var wanted = CheckRoles(roles);
        var user = new PortWatchUser { UserName = userName?.Trim(), Email = string.IsNullOrWhiteSpace(email) ? null : email.Trim(), CreatedAt = clock.GetUtcNow().UtcDateTime };
        if (string.IsNullOrWhiteSpace(user.UserName))
            throw new InputException(nameof(userName), "enter a user name");
        Check(await users.CreateAsync(user, password ?? ""), nameof(password));
        Check(await users.AddToRolesAsync(user, wanted), "roles");
        await AuditAsync(admin, "user.create", user.UserName, null, new { user.UserName, user.Email, Roles = wanted });
        return await InfoAsync(user);
    }

    public Task SetRoleAsync(string userName, string role, string admin) => SetRolesAsync(userName, [role], admin);

    public async Task SetRolesAsync(string userName, IReadOnlyList<string>? roles, string admin)
    {
        var wanted = CheckRoles(roles);
        var user = await FindAsync(userName);
        var before = await users.GetRolesAsync(user);
        if (before.Contains(Roles.Admin) && !wanted.Contains(Roles.Admin))
            await RequireAnotherAdminAsync(user, "lose the Admin role");
        Check(await users.RemoveFromRolesAsync(user, before), "roles");
        Check(await users.AddToRolesAsync(user, wanted), "roles");
        await users.UpdateSecurityStampAsync(user); // open sessions pick up the new roles at their next revalidation
        await AuditAsync(admin, "user.role", userName, new { Roles = before }, new { Roles = wanted });
    }

    public async Task SetLockedAsync(string userName, bool locked, string admin)
    {
        var user = await FindAsync(userName);
        if (locked && string.Equals(userName, admin, StringComparison.OrdinalIgnoreCase))
            throw new InputException("locked", "you cannot lock yourself out");
        if (locked && await users.IsInRoleAsync(user, Roles.Admin))
            await RequireAnotherAdminAsync(user, "be locked");
        await users.SetLockoutEnabledAsync(user, true);
        await users.SetLockoutEndDateAsync(user, locked ? UserLock.LockedByAdmin : null);
        if (!locked)
            await users.ResetAccessFailedCountAsync(user);
        await users.UpdateSecurityStampAsync(user);
        await AuditAsync(admin, locked ? "user.lock" : "user.unlock", userName, null, null);
    }

    /// <summary>Sets a new password; the user's sessions end at their next revalidation (the stamp changes).</summary>
    public async Task ResetPasswordAsync(string userName, string password, string admin)
    {
        var user = await FindAsync(userName);
        var token = await users.GeneratePasswordResetTokenAsync(user);
        Check(await users.ResetPasswordAsync(user, token, password ?? ""), nameof(password));
        await AuditAsync(admin, "user.password-reset", userName, null, null);
    }

    /// <summary>Deletes the user and revokes their API tokens; findings and audit entries keep their name.</summary>
    public async Task DeleteAsync(string userName, string admin)
    {
        var user = await FindAsync(userName);
        if (string.Equals(userName, admin, StringComparison.OrdinalIgnoreCase))
            throw new InputException("user", "you cannot delete yourself");
        if (await users.IsInRoleAsync(user, Roles.Admin))
            await RequireAnotherAdminAsync(user, "be deleted");
        var before = await InfoAsync(user);
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            var now = clock.GetUtcNow().UtcDateTime;
            await db.ApiTokens.Where(t => t.UserId == user.Id && t.RevokedAt == null).ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now));
        }
        Check(await users.DeleteAsync(user), "user");
        await AuditAsync(admin, "user.delete", userName, new { before.UserName, before.Email, before.Roles }, null);
    }

    private async Task<PortWatchUser> FindAsync(string userName) =>
        await users.FindByNameAsync(userName ?? "") ?? throw new UserNotFoundException(userName ?? "");

    private async Task<UserInfo> InfoAsync(PortWatchUser user) =>
        new(user.UserName ?? user.Id, user.Email, Ordered(await users.GetRolesAsync(user)), UserLock.IsLockedByAdmin(user), null, user.CreatedAt);

    private async Task RequireAnotherAdminAsync(PortWatchUser user, string what)
    {
        var admins = await users.GetUsersInRoleAsync(Roles.Admin);
        if (!admins.Any(a => a.Id != user.Id && !UserLock.IsLockedByAdmin(a)))
            throw new InputException("roles", $"the last administrator cannot {what}");
    }

    private static List<string> CheckRoles(IReadOnlyList<string>? roles)
    {
        if (roles is null || roles.Count == 0)
            throw new InputException("roles", $"give at least one role of {string.Join(", ", Roles.All)}");
        var wanted = new List<string>();
        foreach (var role in roles)
        {
            var known = Roles.All.FirstOrDefault(r => string.Equals(r, role?.Trim(), StringComparison.OrdinalIgnoreCase))
                ?? throw new InputException("roles", $"unknown role '{Scanning.SafeText.ForTerminal(role, 50)}': use {string.Join(", ", Roles.All)}");
            if (!wanted.Contains(known))
                wanted.Add(known);
        }
        return wanted;
    }

    private static List<string> Ordered(IEnumerable<string> roles) => roles.OrderBy(r => Roles.All.ToList().IndexOf(r)).ToList();

    private static void Check(IdentityResult result, string field)
    {
        if (!result.Succeeded)
            throw new InputException(field, string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    private async Task AuditAsync(string admin, string action, string userName, object? before, object? after)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        AuditLog.Record(db, admin, action, "User", userName, before, after, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
    }
}

/// <summary>An administrator named a user that does not exist (404 on the API).</summary>
public sealed class UserNotFoundException(string userName) : Exception($"no user '{userName}'")
{
    public string UserName { get; } = userName;
}
