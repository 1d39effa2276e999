using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Common;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Inventory.Sources;

/// <summary>What an admin sends to create or change a source; settings may carry the kind's secrets, which are split off and protected.</summary>
public sealed record AssetSourceInput(string? Name, string? Kind, string? Schedule, JsonObject? Settings, bool? Enabled, double? MaxRetireShare);

/// <summary>A source as the API and the page show it: settings without secrets, and which secrets are set.</summary>
public sealed record AssetSourceView(int Id, string Name, string Kind, string? Schedule, JsonObject Settings, IReadOnlyList<string> SecretsSet, bool Enabled,
    double MaxRetireShare, DateTime? LastSyncAt, string? LastSyncStatus);

/// <summary>A sync's report as the API returns it.</summary>
public sealed record AssetSyncReport(long Id, string Status, int Added, int Updated, int Unretired, int Retired, bool Held, int Unchanged,
    IReadOnlyList<RejectedEntry> Rejected, int RejectedCount, IReadOnlyList<string> RetiredTargets, string? Error, DateTime StartedAt, string? RequestedBy)
{
    public static AssetSyncReport From(AssetSourceSync s) => new(s.Id, s.Status.ToString().ToLowerInvariant(), s.Added, s.Updated, s.Unretired, s.Retired,
        s.Status == AssetSyncStatus.Held, s.Unchanged, JsonSerializer.Deserialize<List<RejectedEntry>>(s.Rejected, SourceDefinition.Json) ?? [], s.RejectedCount,
        JsonSerializer.Deserialize<List<string>>(s.RetiredTargets, SourceDefinition.Json) ?? [], s.Error, s.StartedAt, s.RequestedBy);
}

public sealed record RejectedEntry(string Entry, string Reason);

/// <summary>Asset sources: create, change, delete (audited); their triggers follow every change.</summary>
public sealed class AssetSourceService(IDbContextFactory<PortWatchDbContext> dbFactory, SourceSecretProtector protector, AssetSourceScheduler scheduler, TimeProvider clock)
{
    private static readonly string[] SecretFields = ["header", "secretAccessKey", "sessionToken"];

    public async Task<List<AssetSourceView>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return (await db.AssetSources.AsNoTracking().OrderBy(s => s.Name).ToListAsync(cancellationToken)).Select(View).ToList();
    }

    public AssetSourceView View(AssetSource s)
    {
        var secrets = protector.Unprotect(s.ProtectedSecrets);
        var set = new[] { secrets.Header is null ? null : "header", secrets.SecretAccessKey is null ? null : "secretAccessKey", secrets.SessionToken is null ? null : "sessionToken" };
        return new AssetSourceView(s.Id, s.Name, s.Kind.ToString().ToLowerInvariant(), s.CronExpression, JsonNode.Parse(s.Settings)!.AsObject(), set.OfType<string>().ToList(),
            s.Enabled, s.MaxRetireShare, s.LastSyncAt, s.LastSyncStatus?.ToString().ToLowerInvariant());
    }

    public async Task<AssetSource> CreateAsync(AssetSourceInput input, string user, CancellationToken cancellationToken = default)
    {
        var source = new AssetSource { Name = "", CreatedAt = clock.GetUtcNow().UtcDateTime };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        Fill(source, input, isNew: true);
        if (await db.AssetSources.AnyAsync(s => s.Name == source.Name, cancellationToken))
            throw new InputException("name", $"a source named '{source.Name}' exists");
        db.AssetSources.Add(source);
        await db.SaveChangesWithAuditAsync(user, "asset-source.create", nameof(AssetSource), () => source.Id, null, () => Snapshot(source), source.CreatedAt, cancellationToken);
        await scheduler.SyncAsync(source.Id, cancellationToken);
        return source;
    }

    public async Task<AssetSource> UpdateAsync(int id, AssetSourceInput input, string user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var source = await db.AssetSources.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw new InputException("id", $"asset source #{id} does not exist");
        var before = Snapshot(source);
        var oldName = source.Name;
        Fill(source, input, isNew: false);
        if (source.Name != oldName && await db.AssetSources.AnyAsync(s => s.Name == source.Name && s.Id != id, cancellationToken))
            throw new InputException("name", $"a source named '{source.Name}' exists");
        if (source.Name != oldName)
        {
            // Its assets follow the new name (their source of record is the name).
            var (oldTag, newTag) = ($"source:{oldName}", $"source:{source.Name}");
            await db.Assets.Where(a => a.SourceOfRecord == oldTag).ExecuteUpdateAsync(u => u.SetProperty(a => a.SourceOfRecord, newTag), cancellationToken);
        }
        AuditLog.Record(db, user, "asset-source.update", nameof(AssetSource), id, before, Snapshot(source), source.UpdatedAt);
        await db.SaveChangesAsync(cancellationToken);
        await scheduler.SyncAsync(id, cancellationToken);
        return source;
    }

    /// <summary>Deletes the source and its claims and reports; its assets stay, as hand-made ones, so nothing stops being scanned by surprise.</summary>
    public async Task DeleteAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var source = await db.AssetSources.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw new InputException("id", $"asset source #{id} does not exist");
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tag = $"source:{source.Name}";
        await db.Assets.Where(a => a.SourceOfRecord == tag).ExecuteUpdateAsync(u => u.SetProperty(a => a.SourceOfRecord, $"manual (was {tag})"), cancellationToken);
        db.AssetSources.Remove(source);
        AuditLog.Record(db, user, "asset-source.delete", nameof(AssetSource), id, Snapshot(source), null, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await scheduler.SyncAsync(id, cancellationToken);
    }

    public async Task<List<AssetSourceSync>> SyncsAsync(int id, int take = 20, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.AssetSourceSyncs.AsNoTracking().Where(s => s.AssetSourceId == id).OrderByDescending(s => s.Id).Take(take).ToListAsync(cancellationToken);
    }

    private void Fill(AssetSource source, AssetSourceInput input, bool isNew)
    {
        var errors = new InputException.Builder();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
            errors.Add("name", "a name of 1 to 100 characters is needed");
        var kind = input.Kind?.Trim().ToLowerInvariant() switch
        {
            "http" => AssetSourceKind.Http,
            "aws" => AssetSourceKind.Aws,
            "dns" => AssetSourceKind.Dns,
            _ => (AssetSourceKind?)null,
        };
        if (kind is null)
            errors.Add("kind", $"'{Scanning.SafeText.ForTerminal(input.Kind, 20)}' is not http, aws or dns");
        else if (!isNew && kind != source.Kind)
            errors.Add("kind", "a source's kind cannot change; make a new source");
        var schedule = string.IsNullOrWhiteSpace(input.Schedule) ? null : input.Schedule.Trim();
        if (schedule is not null && Schedules.ScheduleSynchronizer.ScheduleCronError(schedule, "UTC") is { } cronError)
            errors.Add("schedule", cronError);
        if (input.MaxRetireShare is { } share && (double.IsNaN(share) || share < 0 || share > 1))
            errors.Add("maxRetireShare", "a share from 0 to 1 (default 0.2)");
        var settings = input.Settings?.DeepClone().AsObject() ?? new JsonObject();
        var secrets = protector.Unprotect(source.ProtectedSecrets);
        // Secrets are written, never read back: an absent (or null) field keeps the stored one, an empty string clears it.
        string? Secret(string field, string? kept)
        {
            if (!settings.TryGetPropertyValue(field, out var node))
                return kept;
            settings.Remove(field);
            if (node is null)
                return kept;
            return node.GetValueKind() == JsonValueKind.String && node.GetValue<string>() is { Length: > 0 } value ? value : null;
        }
        secrets = new SourceSecrets
        {
            Header = Secret("header", secrets.Header),
            SecretAccessKey = Secret("secretAccessKey", secrets.SecretAccessKey),
            SessionToken = Secret("sessionToken", secrets.SessionToken),
        };
        if (secrets.Header is { } header && (header.IndexOf(':', StringComparison.Ordinal) <= 0 || header.Length > 4000 || header.Any(char.IsControl)))
            errors.Add("settings.header", "the header must be 'Name: value' on one line");
        if (kind is { } k)
            SourceDefinition.Validate(k, settings, errors);
        if (settings.ToJsonString().Length > 20_000)
            errors.Add("settings", "the settings are larger than 20,000 characters");
        errors.ThrowIfAny();
        source.Name = name!;
        source.Kind = kind!.Value;
        source.CronExpression = schedule;
        source.Settings = settings.ToJsonString();
        source.ProtectedSecrets = protector.Protect(secrets);
        source.Enabled = input.Enabled ?? source.Enabled;
        source.MaxRetireShare = input.MaxRetireShare ?? source.MaxRetireShare;
        source.UpdatedAt = clock.GetUtcNow().UtcDateTime;
    }

    /// <summary>For the audit log: no secret, only which are set.</summary>
    private object Snapshot(AssetSource s) => new { s.Name, Kind = s.Kind.ToString(), Schedule = s.CronExpression, s.Settings, s.Enabled, s.MaxRetireShare, Secrets = View(s).SecretsSet };
}
