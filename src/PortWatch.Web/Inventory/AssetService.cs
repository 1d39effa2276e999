using PortWatch.Web.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Inventory;

/// <summary>One asset as entered, imported or pushed by an inventory.</summary>
public sealed record AssetInput
{
    public string Target { get; init; } = "";

    public string? Name { get; init; }

    public string? Owner { get; init; }

    public List<string> Tags { get; init; } = [];

    public string? Environment { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>The asset's id in the source of record; an import or sync with the same id updates instead of adding.</summary>
    public string? ExternalId { get; init; }
}

/// <summary>A line of an import that cannot be used, and why.</summary>
public sealed record RejectedLine(int Line, string Text, string Reason);

/// <summary>What an import file or pasted list contains: the usable assets and the rejected lines.</summary>
public sealed record AssetImport(IReadOnlyList<AssetInput> Valid, IReadOnlyList<RejectedLine> Rejected);

public sealed record AssetSyncResult(int Created, int Updated, int Unchanged);

/// <summary>
/// Assets: add, edit, delete, and bulk import from CSV or a pasted list of addresses and CIDRs.
/// An import with rejected lines saves nothing unless the user chooses to keep the valid lines.
/// </summary>
public sealed class AssetService(IDbContextFactory<PortWatchDbContext> dbFactory, ScanScope scope, TimeProvider clock)
{
    /// <summary>The largest asset: 16,777,216 addresses (an IPv4 /8, an IPv6 /104). Larger ones (0.0.0.0/0, ::/0) cannot be scanned and are a typing error.</summary>
    public static readonly UInt128 MaxAssetAddresses = 1 << 24;

    public const int MaxImportLines = 100_000;
    public const int MaxImportBytes = 10 * 1024 * 1024;
    private static readonly string[] CsvColumns = ["target", "name", "owner", "tags", "environment", "enabled", "external_id"];

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Parses CSV (a header line naming at least "target"; columns name, owner, tags separated by
    /// ';', environment, enabled, external_id) or a plain list of addresses/CIDRs/ranges, one or
    /// more per line (commas and spaces separate; '#' starts a comment).
    /// </summary>
    public static AssetImport Parse(string text)
    {
        var valid = new List<AssetInput>();
        var rejected = new List<RejectedLine>();
        if (Encoding.UTF8.GetByteCount(text) > MaxImportBytes)
            return new AssetImport(valid, [new RejectedLine(0, "", $"the import is larger than {MaxImportBytes / 1024 / 1024} MB")]);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        if (lines.Length > MaxImportLines)
            return new AssetImport(valid, [new RejectedLine(0, "", $"the import has more than {MaxImportLines} lines")]);
        var first = lines.FirstOrDefault(l => !string.IsNullOrWhiteSpace(l))?.Trim();
        var firstCells = first is null ? null : SplitCsv(first)?.Select(c => c.Trim().ToLowerInvariant()).ToList();
        var header = firstCells is not null && firstCells.Contains("target") ? firstCells : null;
        var headerSeen = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            if (header is not null)
            {
                if (!headerSeen)
                {
                    headerSeen = true;
                    if (header.FirstOrDefault(c => !CsvColumns.Contains(c)) is { } unknown)
                    {
                        rejected.Add(new RejectedLine(i + 1, Short(line), $"unknown column '{unknown}'; columns are {string.Join(", ", CsvColumns)}"));
                        return new AssetImport([], rejected);
                    }
                    continue;
                }
                ParseCsvLine(i + 1, line, header, valid, rejected);
            }
            else
            {
                foreach (var token in line.Split([',', ' ', '\t', ';'], StringSplitOptions.RemoveEmptyEntries))
                {
                    if (token.StartsWith('#'))
                        break;
                    if (IpRange.TryParse(token, out var range, out var error))
                        valid.Add(new AssetInput { Target = range.ToString(), Name = range.ToString() });
                    else
                        rejected.Add(new RejectedLine(i + 1, Short(token), error ?? "not an address, CIDR or range"));
                }
            }
        }
        return new AssetImport(valid, rejected);
    }

    private static void ParseCsvLine(int number, string line, List<string> header, List<AssetInput> valid, List<RejectedLine> rejected)
    {
        var cells = SplitCsv(line);
        if (cells is null)
        {
            rejected.Add(new RejectedLine(number, Short(line), "unbalanced quotes"));
            return;
        }
        if (cells.Count > header.Count)
        {
            rejected.Add(new RejectedLine(number, Short(line), $"{cells.Count} cells but the header names {header.Count} columns"));
            return;
        }
        string? Cell(string column) => header.IndexOf(column) is var index and >= 0 && index < cells.Count && cells[index].Trim() is { Length: > 0 } v ? v : null;
        var input = new AssetInput
        {
            Target = Cell("target") ?? "",
            Name = Cell("name"),
            Owner = Cell("owner"),
            Tags = (Cell("tags") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
            Environment = Cell("environment"),
            Enabled = Cell("enabled") is not { } enabled || !(enabled.Equals("false", StringComparison.OrdinalIgnoreCase) || enabled == "0" || enabled.Equals("no", StringComparison.OrdinalIgnoreCase)),
            ExternalId = Cell("external_id"),
        };
        if (Problem(input) is { } problem)
            rejected.Add(new RejectedLine(number, Short(line), problem));
        else
            valid.Add(Normalize(input));
    }

    /// <summary>Splits one CSV line (RFC 4180 quotes); null when the quotes do not balance.</summary>
    internal static List<string>? SplitCsv(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        if (quoted)
            return null;
        cells.Add(cell.ToString());
        return cells;
    }

    /// <summary>What is wrong with the input, or null (the first problem; <see cref="Problems"/> names every field).</summary>
    public static string? Problem(AssetInput? input) => Problems(input).Select(p => p.Message).FirstOrDefault();

    /// <summary>Every problem of the input, each with the field it is about.</summary>
    public static IEnumerable<(string Field, string Message)> Problems(AssetInput? input)
    {
        if (input is null)
        {
            yield return ("", "an asset object is needed here, not null");
            yield break;
        }
        if (string.IsNullOrWhiteSpace(input.Target))
            yield return ("target", "the target is empty");
        else if (!IpRange.TryParse(input.Target.Trim(), out var range, out var error))
            yield return ("target", error ?? "not an address, CIDR or range");
        else if (range.Count > MaxAssetAddresses)
            yield return ("target", $"{range} has more than {MaxAssetAddresses:N0} addresses (larger than an IPv4 /8 or an IPv6 /104): it cannot be scanned; enter the ranges you own");
        if (input.Name?.Length > 200)
            yield return ("name", "the name is longer than 200 characters");
        if (input.Owner?.Length > 200)
            yield return ("owner", "the owner is longer than 200 characters");
        if (input.Environment?.Length > 100)
            yield return ("environment", "the environment is longer than 100 characters");
        if (input.ExternalId?.Length > 200)
            yield return ("externalId", "the external id is longer than 200 characters");
        if (input.Tags is null)
            yield return ("tags", "tags must be a list (empty for none), not null");
        else if (input.Tags.Count > 50 || input.Tags.Any(t => t is null || t.Length > 50))
            yield return ("tags", "at most 50 tags of 1 to 50 characters");
    }

    /// <summary>Refuses, with the reason, assets outside the allowed scope (Scanning:AllowedScope and Settings → Scope): they could never be scanned.</summary>
    private async Task CheckScopeAsync(List<AssetInput> inputs, Func<int, string> field, CancellationToken cancellationToken)
    {
        var guard = new ScopeGuard(await scope.AllowedAsync(cancellationToken));
        var errors = new InputException.Builder();
        for (var i = 0; i < inputs.Count; i++)
        {
            try
            {
                guard.Check(TargetSet.FromRanges([IpRange.Parse(inputs[i].Target)]));
            }
            catch (TargetSpecException ex)
            {
                errors.Add(field(i), ex.Message);
            }
        }
        errors.ThrowIfAny();
    }

    internal static AssetInput Normalize(AssetInput input)
    {
        var range = IpRange.Parse(input.Target.Trim());
        return input with
        {
            Target = range.ToString(),
            Name = string.IsNullOrWhiteSpace(input.Name) ? range.ToString() : input.Name.Trim(),
            Owner = Blank(input.Owner),
            Environment = Blank(input.Environment),
            ExternalId = Blank(input.ExternalId),
            Tags = input.Tags.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
        };
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string Short(string text) => text.Length > 120 ? text[..120] + "…" : text;

    /// <summary>
    /// Saves an import: assets with the same external id (or, without one, the same target) are
    /// updated, others added, in one transaction. With rejected lines and <paramref name="keepValid"/>
    /// false nothing is saved.
    /// </summary>
    public async Task<AssetSyncResult> ImportAsync(AssetImport import, string user, string source, bool keepValid, CancellationToken cancellationToken = default)
    {
        if (import.Rejected.Count > 0 && !keepValid)
            throw new InputException("lines", $"{import.Rejected.Count} line(s) rejected, so nothing was saved; fix them or choose to keep the valid lines");
        if (import.Valid.Count == 0)
            throw new InputException("lines", "nothing to import");
        return await UpsertAsync(import.Valid, user, source, cancellationToken);
    }

    /// <summary>Adds or updates assets by external id or target (idempotent: the same input twice changes nothing the second time).</summary>
    public async Task<AssetSyncResult> UpsertAsync(IReadOnlyList<AssetInput> inputs, string user, string source, CancellationToken cancellationToken = default)
    {
        var errors = new InputException.Builder();
        for (var i = 0; i < inputs.Count; i++)
        {
            foreach (var (field, message) in Problems(inputs[i]))
                errors.Add(field.Length == 0 ? $"[{i}]" : $"[{i}].{field}", message);
        }
        errors.ThrowIfAny();
        var normalized = inputs.Select(Normalize).ToList();
        await CheckScopeAsync(normalized, i => $"[{i}].target", cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var existing = await db.Assets.ToListAsync(cancellationToken);
        var byExternal = existing.Where(a => a.ExternalId is not null).GroupBy(a => (a.SourceOfRecord, a.ExternalId!)).ToDictionary(g => g.Key, g => g.First());
        var byTarget = existing.GroupBy(a => a.Target).ToDictionary(g => g.Key, g => g.First());
        int created = 0, updated = 0, unchanged = 0;
        foreach (var input in normalized)
        {
            var asset = input.ExternalId is { } external && byExternal.TryGetValue((source, external), out var found) ? found
                : input.ExternalId is null && byTarget.TryGetValue(input.Target, out var sameTarget) ? sameTarget : null;
            if (asset is null)
            {
                asset = new Asset { Name = "", Target = "", RangeStart = "", RangeEnd = "", CreatedAt = Now, SourceOfRecord = source };
                Apply(asset, input);
                db.Assets.Add(asset);
                byTarget[asset.Target] = asset;
                if (asset.ExternalId is not null)
                    byExternal[(source, asset.ExternalId)] = asset;
                created++;
                continue;
            }
            var before = Snapshot(asset);
            Apply(asset, input);
            if (Snapshot(asset) == before)
            {
                unchanged++;
                continue;
            }
            asset.UpdatedAt = Now;
            updated++;
        }
        AuditLog.Record(db, user, "asset.import", nameof(Asset), null, null, new { Source = source, Created = created, Updated = updated, Unchanged = unchanged }, Now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new AssetSyncResult(created, updated, unchanged);
    }

    public async Task<Asset> SaveAsync(int id, AssetInput input, string user, CancellationToken cancellationToken = default)
    {
        var problems = new InputException.Builder();
        foreach (var (field, message) in Problems(input))
            problems.Add(field.Length == 0 ? "asset" : field, message);
        problems.ThrowIfAny();
        var normalized = Normalize(input);
        await CheckScopeAsync([normalized], _ => "target", cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        Asset asset;
        string? before = null;
        if (id == 0)
        {
            asset = new Asset { Name = "", Target = "", RangeStart = "", RangeEnd = "", CreatedAt = Now, SourceOfRecord = "manual" };
            db.Assets.Add(asset);
        }
        else
        {
            asset = await db.Assets.SingleOrDefaultAsync(a => a.Id == id, cancellationToken) ?? throw new InputException("id", $"asset #{id} does not exist");
            before = Snapshot(asset);
        }
        Apply(asset, normalized);
        asset.UpdatedAt = Now;
        await db.SaveChangesWithAuditAsync(user, id == 0 ? "asset.create" : "asset.update", nameof(Asset), () => asset.Id, before, () => Snapshot(asset), Now, cancellationToken);
        return asset;
    }

    public async Task DeleteAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var asset = await db.Assets.SingleOrDefaultAsync(a => a.Id == id, cancellationToken) ?? throw new InputException("id", $"asset #{id} does not exist");
        db.Assets.Remove(asset);
        AuditLog.Record(db, user, "asset.delete", nameof(Asset), id, Snapshot(asset), null, Now);
        await db.SaveChangesAsync(cancellationToken);
    }

    internal static void Apply(Asset asset, AssetInput input)
    {
        asset.SetRange(IpRange.Parse(input.Target));
        asset.Name = input.Name ?? asset.Target;
        asset.Owner = input.Owner;
        asset.Tags = input.Tags;
        asset.Environment = input.Environment;
        asset.Enabled = input.Enabled;
        asset.ExternalId = input.ExternalId;
    }

    private static string Snapshot(Asset a) =>
        System.Text.Json.JsonSerializer.Serialize(new { a.Name, a.Target, a.Owner, Tags = string.Join(';', a.Tags), a.Environment, a.Enabled, a.ExternalId, a.SourceOfRecord });
}
