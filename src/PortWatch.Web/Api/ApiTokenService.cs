using PortWatch.Web.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Api;

/// <summary>A token as listed (never its secret).</summary>
public sealed record ApiTokenInfo(int Id, string Name, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? LastUsedAt, DateTime? RevokedAt);

/// <summary>
/// Personal API tokens: "pw_" and 43 random base64url characters (256 bits). Only the SHA-256 of
/// a token is stored; the token itself is shown once, when created. A token acts with its
/// owner's current roles, and stops working when revoked, expired, or its owner is locked by an administrator or deleted
/// (never because of failed passwords at the sign-in form).
/// </summary>
public sealed class ApiTokenService(IDbContextFactory<PortWatchDbContext> dbFactory, TimeProvider clock)
{
    public const string Prefix = "pw_";

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <returns>The token (shown once) and its record.</returns>
    public async Task<(string Token, ApiTokenInfo Info)> CreateAsync(string userId, string userName, string name, DateTime? expiresAt, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
            throw new InputException(nameof(name), "give the token a name of at most 100 characters");
        if (expiresAt is { } e && e <= now)
            throw new InputException(nameof(expiresAt), "the expiry is in the past");
        var token = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = new ApiToken { UserId = userId, Name = name.Trim(), Prefix = token[..10], Hash = Hash(token), CreatedAt = now, ExpiresAt = expiresAt };
        db.ApiTokens.Add(row);
        await db.SaveChangesWithAuditAsync(userName, "token.create", nameof(ApiToken), () => row.Id, null, () => new { row.Name, row.Prefix, row.ExpiresAt }, now, cancellationToken);
        return (token, Info(row));
    }

    public async Task<List<ApiTokenInfo>> ListAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return (await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderByDescending(t => t.Id).ToListAsync(cancellationToken)).Select(Info).ToList();
    }

    /// <summary>Revokes one of the user's own tokens; false when there is no such token.</summary>
    public async Task<bool> RevokeAsync(string userId, string userName, int id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == id && t.UserId == userId, cancellationToken);
        if (row is null)
            return false;
        if (row.RevokedAt is null)
        {
            row.RevokedAt = clock.GetUtcNow().UtcDateTime;
            AuditLog.Record(db, userName, "token.revoke", nameof(ApiToken), id, null, new { row.Name, row.Prefix }, row.RevokedAt.Value);
            await db.SaveChangesAsync(cancellationToken);
        }
        return true;
    }

    /// <summary>The owner's user id for a valid token, or null (unknown, revoked or expired).</summary>
    public async Task<string?> ValidateAsync(string token, CancellationToken cancellationToken = default)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 100)
            return null;
        var hash = Hash(token);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiTokens.SingleOrDefaultAsync(t => t.Hash == hash, cancellationToken);
        if (row is null || row.RevokedAt is not null || row.ExpiresAt <= now)
            return null;
        if (row.LastUsedAt is null || now - row.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            row.LastUsedAt = now; // coarse, so busy clients do not write on every request
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (DatabaseWriteHealth.IsTransient(ex))
            {
                // A note of when the token was last used is not worth refusing the request: reads (and /health) go on while writes fail.
            }
        }
        return row.UserId;
    }

    private static ApiTokenInfo Info(ApiToken t) => new(t.Id, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
