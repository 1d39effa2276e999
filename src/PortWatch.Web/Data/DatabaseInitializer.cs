using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Data;

/// <summary>
/// Brings the database to the current schema and gives a fresh instance what it needs to be
/// usable: the roles, a first administrator, default scan profiles and the high-risk catalogue.
/// </summary>
public sealed class DatabaseInitializer(
    PortWatchDbContext db,
    ResolvedDatabase database,
    UserManager<PortWatchUser> users,
    RoleManager<IdentityRole> roles,
    IOptions<AdminOptions> admin,
    TimeProvider clock,
    ILogger<DatabaseInitializer> logger)
{
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken);
        // Several nodes may start together on an empty database: each step tolerates another node
        // having done it a moment earlier.
        foreach (var role in Roles.All)
        {
            await TolerateConcurrentNodeAsync(async () =>
            {
                if (!await roles.RoleExistsAsync(role))
                    await roles.CreateAsync(new IdentityRole(role));
            }, () => roles.RoleExistsAsync(role));
        }
        await TolerateConcurrentNodeAsync(CreateFirstAdministratorAsync, () => users.Users.AnyAsync());
        await TolerateConcurrentNodeAsync(() => SeedDefaultsAsync(cancellationToken), () => db.ScanProfiles.AnyAsync(cancellationToken));
    }

    /// <summary>Runs a seeding step; if it fails because another node just did the same, that is success.</summary>
    private async Task TolerateConcurrentNodeAsync(Func<Task> step, Func<Task<bool>> doneByOther)
    {
        try
        {
            await step();
        }
        catch (Exception ex) when (ex is DbUpdateException or StartupException or InvalidOperationException)
        {
            db.ChangeTracker.Clear();
            if (!await doneByOther())
                throw;
            logger.LogInformation("Another node initialised the database at the same moment; continuing");
        }
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (database.Provider == DatabaseProvider.Sqlite)
            {
                // WAL lets the dashboard read while scans write.
                await db.Database.OpenConnectionAsync(cancellationToken);
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
            if (database.MigrateOnStartup)
            {
                await db.Database.MigrateAsync(cancellationToken);
                logger.LogInformation("Database ready: {Database}", database.Describe());
            }
            else
            {
                var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
                if (pending.Count > 0)
                    throw new StartupException($"The database {database.Describe()} lacks {pending.Count} migration(s) ({string.Join(", ", pending)}) and Database:MigrateOnStartup is false. Apply them, or set it to true.");
            }
        }
        catch (Exception ex) when (ex is not StartupException and not OperationCanceledException)
        {
            throw new StartupException($"Cannot open the database ({database.Describe()}): {ex.GetBaseException().Message}", ex);
        }
    }

    private async Task CreateFirstAdministratorAsync()
    {
        if (await users.Users.AnyAsync())
            return;
        var options = admin.Value;
        var generated = string.IsNullOrEmpty(options.Password);
        var password = generated ? GeneratePassword() : options.Password!;
        var user = new PortWatchUser
        {
            UserName = options.UserName,
            Email = options.Email,
            EmailConfirmed = true,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
            throw new StartupException($"Cannot create the first administrator '{options.UserName}' from the Admin section: {string.Join(" ", created.Errors.Select(e => e.Description))}");
        await users.AddToRoleAsync(user, Roles.Admin);
        if (generated)
        {
            // The one place this password ever appears; an operator reads it from the first start's log.
            logger.LogWarning("Created administrator '{UserName}' with password: {Password}  (shown once; change it after signing in, or set Admin:Password before the first start)", options.UserName, password);
        }
        else
        {
            logger.LogInformation("Created administrator '{UserName}' from configuration", options.UserName);
        }
    }

    private async Task SeedDefaultsAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (!await db.ScanProfiles.AnyAsync(cancellationToken))
        {
            db.ScanProfiles.AddRange(
                new ScanProfile { Name = "Full TCP", Description = "All 65535 TCP ports, service detection", TcpPorts = "1-65535", RatePps = 10_000, CreatedAt = now, UpdatedAt = now },
                new ScanProfile { Name = "Quick", Description = "Top 1000 TCP ports, light version probing", TcpPorts = "top1000", RatePps = 5_000, Retries = 1, VersionIntensity = 2, CreatedAt = now, UpdatedAt = now });
        }
        if (!await db.RiskRules.AnyAsync(cancellationToken))
            db.RiskRules.AddRange(DefaultRiskCatalogue.Create());
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string GeneratePassword()
    {
        // Unambiguous characters; always at least one lower, upper and digit for Identity's rules.
        const string lower = "abcdefghijkmnopqrstuvwxyz", upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", digits = "23456789";
        const string all = lower + upper + digits;
        var chars = new char[20];
        for (var i = 0; i < chars.Length; i++)
            chars[i] = all[RandomNumberGenerator.GetInt32(all.Length)];
        chars[0] = lower[RandomNumberGenerator.GetInt32(lower.Length)];
        chars[7] = upper[RandomNumberGenerator.GetInt32(upper.Length)];
        chars[14] = digits[RandomNumberGenerator.GetInt32(digits.Length)];
        return new string(chars);
    }
}
