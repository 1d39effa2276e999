using PortWatch.Web.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Scans;

/// <summary>
/// The ranges PortWatch may scan: <c>Scanning:AllowedScope</c> from configuration plus the ranges
/// an admin adds in Settings. Both empty means no restriction (the sample configuration sets one).
/// </summary>
public sealed class ScanScope(IDbContextFactory<PortWatchDbContext> dbFactory, IOptions<ScanningOptions> options, TimeProvider clock)
{
    public IReadOnlyList<string> Configured => options.Value.AllowedScope;

    public async Task<List<string>> AllowedAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var added = await db.ScopeEntries.AsNoTracking().Select(s => s.Range).ToListAsync(cancellationToken);
        return [.. options.Value.AllowedScope, .. added];
    }

    /// <exception cref="TargetSpecException">a target outside the allowed ranges.</exception>
    public async Task CheckAsync(TargetSet targets, CancellationToken cancellationToken = default) =>
        new ScopeGuard(await AllowedAsync(cancellationToken)).Check(targets);

    public async Task<ScopeEntry> AddAsync(string range, string? note, string user, CancellationToken cancellationToken = default)
    {
        if (!IpRange.TryParse(range?.Trim() ?? "", out var parsed, out var error))
            throw new InputException(nameof(range), error ?? "not an address, CIDR or range");
        if (note?.Length > 500)
            throw new InputException(nameof(note), "the note is longer than 500 characters");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var text = parsed.ToString();
        if (await db.ScopeEntries.AnyAsync(s => s.Range == text, cancellationToken))
            throw new InputException(nameof(range), $"{text} is already in scope");
        var entry = new ScopeEntry { Range = text, Note = string.IsNullOrWhiteSpace(note) ? null : note.Trim(), CreatedBy = user, CreatedAt = clock.GetUtcNow().UtcDateTime };
        db.ScopeEntries.Add(entry);
        AuditLog.Record(db, user, "scope.add", nameof(ScopeEntry), text, null, new { entry.Range, entry.Note }, entry.CreatedAt);
        await db.SaveChangesAsync(cancellationToken);
        return entry;
    }

    public async Task RemoveAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entry = await db.ScopeEntries.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw new InputException("id", $"scope entry #{id} does not exist");
        db.ScopeEntries.Remove(entry);
        AuditLog.Record(db, user, "scope.remove", nameof(ScopeEntry), entry.Range, new { entry.Range, entry.Note }, null, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(cancellationToken);
    }
}
