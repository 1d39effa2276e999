using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Common;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Inventory.Sources;

/// <summary>
/// One sync of one source: read it, check every entry (address, size, scope, duplicates), and
/// turn the difference from the assets this source claims into added, updated, brought-back and
/// retired assets, in one transaction with its report and audit entry.
///
/// Rules that keep it safe: a source that fails changes nothing; a sync that would retire more
/// than the source's share of its assets is held, unchanged, until an admin confirms it; a source
/// retires only an asset that it made and that no other source still lists, never a hand-made one;
/// a retired asset's findings are flagged, not closed, and come back with the asset.
///
/// Concurrency: syncs of one source are serialised in this process (a per-source lock); across
/// nodes the Quartz job for a source runs on one node at a time (DisallowConcurrentExecution and
/// the clustered store), and a manual sync meeting a scheduled one at worst applies the same
/// diff twice, which the second finds already applied.
/// </summary>
public sealed class AssetSourceSyncService(IDbContextFactory<PortWatchDbContext> dbFactory, IEnumerable<IAssetSourceReader> readers, SourceSecretProtector protector,
    ScanScope scope, TimeProvider clock, ILogger<AssetSourceSyncService> logger)
{
    public const int MaxEntries = 100_000;
    private const int MaxListed = 500;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, SemaphoreSlim> Locks = new();

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public static string SourceTag(AssetSource source) => $"source:{source.Name}";

    /// <summary>Reads the source and applies (or holds) the diff; the report says which, and why when nothing changed.</summary>
    public async Task<AssetSourceSync> SyncAsync(int sourceId, string requestedBy, CancellationToken cancellationToken = default)
    {
        var gate = Locks.GetOrAdd(sourceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            AssetSource source;
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
                source = await db.AssetSources.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sourceId, cancellationToken)
                    ?? throw new InputException("id", $"asset source #{sourceId} does not exist");
            var sync = new AssetSourceSync { AssetSourceId = sourceId, StartedAt = Now, RequestedBy = requestedBy };
            IReadOnlyList<SourceEntry> entries;
            try
            {
                var reader = readers.Single(r => r.Kind == source.Kind);
                entries = await reader.ReadAsync(new SourceDefinition(source.Id, source.Name, source.Kind,
                    System.Text.Json.Nodes.JsonNode.Parse(source.Settings)!.AsObject(), protector.Unprotect(source.ProtectedSecrets)), cancellationToken);
                if (entries.Count > MaxEntries)
                    throw new AssetSourceException($"the source lists {entries.Count:N0} entries, more than {MaxEntries:N0}");
            }
            catch (AssetSourceException ex)
            {
                logger.LogWarning("Asset source {Source}: sync failed, nothing changed: {Error}", source.Name, ex.Message);
                sync.Status = AssetSyncStatus.Failed;
                sync.Error = Scanning.SafeText.ForTerminal(ex.Message, 1000);
                return await RecordAsync(source, sync, requestedBy, cancellationToken);
            }
            return await ApplyAsync(source, entries, sync, confirmed: false, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Applies a held sync's entries as they were read (an admin has looked at what it retires).</summary>
    public async Task<AssetSourceSync> ConfirmAsync(int sourceId, long syncId, string admin, CancellationToken cancellationToken = default)
    {
        var gate = Locks.GetOrAdd(sourceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var held = await db.AssetSourceSyncs.Include(s => s.AssetSource).SingleOrDefaultAsync(s => s.Id == syncId && s.AssetSourceId == sourceId, cancellationToken)
                ?? throw new InputException("syncId", $"sync #{syncId} of source #{sourceId} does not exist");
            if (held.Status != AssetSyncStatus.Held || held.HeldEntries is null)
                throw new InputException("syncId", $"sync #{syncId} is {held.Status.ToString().ToLowerInvariant()}, not held: nothing to confirm");
            var entries = JsonSerializer.Deserialize<List<SourceEntry>>(held.HeldEntries, SourceDefinition.Json) ?? [];
            var sync = new AssetSourceSync { AssetSourceId = sourceId, StartedAt = Now, RequestedBy = admin };
            var result = await ApplyAsync(held.AssetSource!, entries, sync, confirmed: true, cancellationToken);
            await db.AssetSourceSyncs.Where(s => s.Id == syncId).ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, AssetSyncStatus.Superseded).SetProperty(s => s.HeldEntries, (string?)null), cancellationToken);
            return result;
        }
        finally
        {
            gate.Release();
        }
    }

    private sealed record Valid(SourceEntry Entry, AssetInput Input);

    private async Task<AssetSourceSync> ApplyAsync(AssetSource source, IReadOnlyList<SourceEntry> entries, AssetSourceSync sync, bool confirmed, CancellationToken cancellationToken)
    {
        var tag = SourceTag(source);
        var (valid, rejected) = await CheckAsync(entries, cancellationToken);
        sync.RejectedCount = rejected.Count;
        sync.Rejected = JsonSerializer.Serialize(rejected.Take(MaxListed).Select(r => new { entry = r.Entry, reason = r.Reason }));
        if (valid.Count == 0)
        {
            sync.Status = AssetSyncStatus.Failed;
            sync.Error = $"none of the {entries.Count} entries can be used (see the rejected list); nothing was changed";
            return await RecordAsync(source, sync, sync.RequestedBy ?? "", cancellationToken);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = Now;
        var claims = await db.AssetClaims.Include(c => c.Asset).Where(c => c.AssetSourceId == source.Id).ToListAsync(cancellationToken);
        var claimedByTarget = claims.Where(c => c.Asset is not null).ToDictionary(c => c.Asset!.Target);
        var targets = valid.Keys.ToList();
        var existing = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var chunk in targets.Chunk(500))
        {
            foreach (var asset in await db.Assets.Where(a => chunk.Contains(a.Target)).ToListAsync(cancellationToken))
                existing[asset.Target] = asset;
        }
        var claimedIds = claims.Select(x => x.AssetId).ToList();
        var otherClaims = (await db.AssetClaims.Where(c => c.AssetSourceId != source.Id && claimedIds.Contains(c.AssetId))
            .Select(c => new { c.AssetId, c.AssetSource!.Name }).ToListAsync(cancellationToken)).ToLookup(c => c.AssetId, c => c.Name);

        var changedRanges = new List<(Asset Asset, bool Retired)>();
        foreach (var (target, item) in valid)
        {
            if (existing.TryGetValue(target, out var asset))
            {
                var wasRetired = asset.RetiredAt is not null;
                if (!claimedByTarget.TryGetValue(target, out var claim))
                {
                    db.AssetClaims.Add(new AssetClaim { Asset = asset, AssetSourceId = source.Id, ExternalId = item.Input.ExternalId, LastSeenAt = now });
                    if (wasRetired)
                        asset.SourceOfRecord = tag; // it comes back through this source
                }
                else
                {
                    claim.LastSeenAt = now;
                    claim.ExternalId = item.Input.ExternalId;
                }
                if (wasRetired)
                {
                    asset.RetiredAt = null;
                    asset.Enabled = true;
                    asset.UpdatedAt = now;
                    sync.Unretired++;
                    changedRanges.Add((asset, false));
                }
                // Only the source that made an asset (its source of record) writes its fields; a merged or hand-made asset keeps them.
                if (asset.SourceOfRecord == tag)
                {
                    var before = Describe(asset);
                    AssetService.Apply(asset, item.Input with { Enabled = asset.Enabled }); // an admin's "disabled" stands
                    asset.SourceOfRecord = tag;
                    if (Describe(asset) != before)
                    {
                        asset.UpdatedAt = now;
                        if (!wasRetired)
                            sync.Updated++;
                    }
                    else if (!wasRetired)
                        sync.Unchanged++;
                }
                else if (!wasRetired)
                    sync.Unchanged++;
                continue;
            }
            var created = new Asset { Name = "", Target = "", RangeStart = "", RangeEnd = "", CreatedAt = now, UpdatedAt = now, SourceOfRecord = tag };
            AssetService.Apply(created, item.Input with { Enabled = true });
            created.SourceOfRecord = tag;
            db.Assets.Add(created);
            db.AssetClaims.Add(new AssetClaim { Asset = created, AssetSourceId = source.Id, ExternalId = item.Input.ExternalId, LastSeenAt = now });
            sync.Added++;
        }

        var retired = new List<string>();
        foreach (var claim in claims.Where(c => c.Asset is not null && !valid.ContainsKey(c.Asset.Target)))
        {
            var asset = claim.Asset!;
            db.AssetClaims.Remove(claim);
            var others = otherClaims[asset.Id].ToList();
            if (others.Count > 0)
            {
                if (asset.SourceOfRecord == tag)
                    asset.SourceOfRecord = $"source:{others[0]}"; // another source still lists it: it stays, and is that source's now
                continue;
            }
            if (asset.SourceOfRecord != tag || asset.RetiredAt is not null)
                continue; // hand-made (or already retired): a source never retires it
            asset.RetiredAt = now;
            asset.Enabled = false;
            asset.UpdatedAt = now;
            retired.Add(asset.Target);
            changedRanges.Add((asset, true));
        }
        sync.Retired = retired.Count;
        sync.RetiredTargets = JsonSerializer.Serialize(retired.Take(MaxListed));

        var share = claims.Count == 0 ? 0 : (double)retired.Count / claims.Count;
        if (!confirmed && retired.Count > 0 && share > source.MaxRetireShare)
        {
            await transaction.RollbackAsync(cancellationToken);
            sync.Status = AssetSyncStatus.Held;
            sync.Error = $"it would retire {retired.Count} of the source's {claims.Count} assets ({share:P0}, more than {source.MaxRetireShare:P0}); nothing was changed until an admin confirms";
            sync.HeldEntries = JsonSerializer.Serialize(entries, SourceDefinition.Json);
            logger.LogWarning("Asset source {Source}: sync held: {Why}", source.Name, sync.Error);
            return await RecordAsync(source, sync, sync.RequestedBy ?? "", cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await RetiredAssetFlags.RecomputeAsync(db, changedRanges.Select(c => c.Asset.Target), source.Name, now, cancellationToken);
        sync.Status = confirmed ? AssetSyncStatus.Confirmed : AssetSyncStatus.Applied;
        sync.FinishedAt = now;
        db.AssetSourceSyncs.Add(sync);
        await SupersedeHeldAsync(db, source.Id, cancellationToken);
        await db.AssetSources.Where(s => s.Id == source.Id).ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSyncAt, now).SetProperty(s => s.LastSyncStatus, sync.Status), cancellationToken);
        AuditLog.Record(db, sync.RequestedBy ?? "", confirmed ? "asset-source.sync-confirmed" : "asset-source.sync", nameof(AssetSource), source.Id, null,
            new { Source = source.Name, sync.Added, sync.Updated, sync.Unretired, sync.Retired, sync.RejectedCount, RetiredTargets = retired.Take(50) }, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Asset source {Source}: {Added} added, {Updated} updated, {Unretired} back, {Retired} retired, {Rejected} rejected",
            source.Name, sync.Added, sync.Updated, sync.Unretired, sync.Retired, sync.RejectedCount);
        return sync;
    }

    /// <summary>Every entry checked as a hand-typed asset is: an address, CIDR or range, not too large, in scope, once.</summary>
    private async Task<(Dictionary<string, Valid> Valid, List<(string Entry, string Reason)> Rejected)> CheckAsync(IReadOnlyList<SourceEntry> entries, CancellationToken cancellationToken)
    {
        var guard = new ScopeGuard(await scope.AllowedAsync(cancellationToken));
        var valid = new Dictionary<string, Valid>(StringComparer.Ordinal);
        var rejected = new List<(string, string)>();
        foreach (var entry in entries)
        {
            var label = Scanning.SafeText.ForTerminal(entry.Entry, 200);
            if (entry.Problem is { } problem)
            {
                rejected.Add((label, problem));
                continue;
            }
            if (string.IsNullOrWhiteSpace(entry.Target))
            {
                rejected.Add((label, "malformed: no address in the mapped field"));
                continue;
            }
            var input = new AssetInput
            {
                Target = entry.Target.Trim(), Name = Cut(entry.Name, 200), Owner = Cut(entry.Owner, 200), Environment = Cut(entry.Environment, 100),
                Tags = (entry.Tags ?? []).Select(t => Cut(t, 50)).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).Take(50).ToList(),
                ExternalId = Cut(entry.ExternalId, 200),
            };
            if (AssetService.Problems(input).Select(p => p.Message).FirstOrDefault() is { } malformed)
            {
                rejected.Add((label, $"malformed: {malformed}"));
                continue;
            }
            var normalized = AssetService.Normalize(input);
            try
            {
                guard.Check(TargetSet.FromRanges([IpRange.Parse(normalized.Target)]));
            }
            catch (TargetSpecException ex)
            {
                rejected.Add((label, $"outside the allowed scope: {ex.Message}"));
                continue;
            }
            if (!valid.TryAdd(normalized.Target, new Valid(entry, normalized)))
                rejected.Add((label, $"duplicate: {normalized.Target} is listed earlier in this source"));
        }
        return (valid, rejected);
    }

    private static async Task SupersedeHeldAsync(PortWatchDbContext db, int sourceId, CancellationToken cancellationToken) =>
        await db.AssetSourceSyncs.Where(s => s.AssetSourceId == sourceId && s.Status == AssetSyncStatus.Held)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, AssetSyncStatus.Superseded).SetProperty(s => s.HeldEntries, (string?)null), cancellationToken);

    /// <summary>A sync that changed no asset (failed or held): its report, the source's last status and the audit entry.</summary>
    private async Task<AssetSourceSync> RecordAsync(AssetSource source, AssetSourceSync sync, string user, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        sync.FinishedAt = Now;
        if (sync.Status == AssetSyncStatus.Held)
            await SupersedeHeldAsync(db, source.Id, cancellationToken);
        db.AssetSourceSyncs.Add(sync);
        await db.AssetSources.Where(s => s.Id == source.Id).ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSyncAt, sync.FinishedAt).SetProperty(s => s.LastSyncStatus, sync.Status), cancellationToken);
        AuditLog.Record(db, user, sync.Status == AssetSyncStatus.Held ? "asset-source.sync-held" : "asset-source.sync-failed", nameof(AssetSource), source.Id, null,
            new { Source = source.Name, sync.Error, sync.Retired, sync.RejectedCount }, Now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return sync;
    }

    private static string Describe(Asset a) => JsonSerializer.Serialize(new { a.Name, a.Owner, a.Environment, Tags = string.Join(';', a.Tags), a.ExternalId });

    private static string? Cut(string? text, int max) => string.IsNullOrWhiteSpace(text) ? null : text.Trim() is var t && t.Length > max ? t[..max] : text.Trim();
}
