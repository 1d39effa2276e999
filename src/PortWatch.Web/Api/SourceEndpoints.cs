using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Alerts;
using PortWatch.Web.Common;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Inventory.Sources;

namespace PortWatch.Web.Api;

/// <summary>An alert channel as the API shows it: its target redacted (secrets are write-only), its routing.</summary>
public sealed record AlertChannelDto(int Id, string Name, string Kind, string Target, string MinimumSeverity, bool Enabled, string? Owner, string? Tag)
{
    public static AlertChannelDto From(AlertChannel c) => new(c.Id, c.Name, c.Kind.ToString().ToLowerInvariant(), AlertChannelRules.Redacted(c), c.MinimumSeverity.ToString(),
        c.Enabled, c.OwnerFilter, c.TagFilter);
}

/// <summary>Create or change a channel; on a change, an absent target keeps the stored one (it is never read back).</summary>
public sealed record AlertChannelRequest(string? Name, AlertChannelKind? Kind, string? Target, Severity? MinimumSeverity, bool? Enabled, string? Owner, string? Tag);

/// <summary>
/// /api/v1/asset-sources and /api/v1/alert-channels, Admin only: so the inventory pulls and the
/// alert routing can be provisioned by script with the rest. Secrets (a source's header or AWS
/// keys, a channel's webhook URL or addresses) are write-only.
/// </summary>
public static class SourceEndpoints
{
    public static void MapAssetSources(RouteGroupBuilder group)
    {
        group.RequireAuthorization(UserEndpoints.AdminPolicy);

        group.MapGet("/", async (AssetSourceService sources) => TypedResults.Ok(await sources.ListAsync())).WithSummary("List asset sources (secrets are never shown)");

        group.MapPost("/", async (AssetSourceService sources, HttpContext context, AssetSourceInput input) =>
        {
            var source = await sources.CreateAsync(input, Name(context));
            return TypedResults.Created($"/api/v1/asset-sources/{source.Id}", sources.View(source));
        }).WithSummary("Add an asset source: kind http, aws or dns, a Quartz cron schedule (UTC, optional) and the kind's settings");

        group.MapPut("/{id:int}", async (AssetSourceService sources, HttpContext context, int id, AssetSourceInput input) =>
            TypedResults.Ok(sources.View(await sources.UpdateAsync(id, input, Name(context)))))
            .WithSummary("Change a source; a secret left out keeps its stored value, an empty one clears it");

        group.MapDelete("/{id:int}", async (AssetSourceService sources, HttpContext context, int id) =>
        {
            await sources.DeleteAsync(id, Name(context));
            return TypedResults.NoContent();
        }).WithSummary("Delete a source (its assets stay, as hand-made ones)");

        group.MapPost("/{id:int}/sync", async (AssetSourceSyncService syncs, HttpContext context, int id) =>
            TypedResults.Ok(AssetSyncReport.From(await syncs.SyncAsync(id, Name(context), context.RequestAborted))))
            .WithSummary("Sync now: {added, updated, unretired, retired, held, rejected: [{entry, reason}], status, error}");

        group.MapGet("/{id:int}/syncs", async (AssetSourceService sources, int id) =>
            TypedResults.Ok((await sources.SyncsAsync(id)).Select(AssetSyncReport.From)))
            .WithSummary("The source's latest sync reports, newest first");

        group.MapPost("/{id:int}/syncs/{syncId:long}/confirm", async (AssetSourceSyncService syncs, HttpContext context, int id, long syncId) =>
            TypedResults.Ok(AssetSyncReport.From(await syncs.ConfirmAsync(id, syncId, Name(context), context.RequestAborted))))
            .WithSummary("Apply a held sync (one that would retire more than the source's share of its assets) as it was read");
    }

    public static void MapAlertChannels(RouteGroupBuilder group)
    {
        group.RequireAuthorization(UserEndpoints.AdminPolicy);

        group.MapGet("/", async (IDbContextFactory<PortWatchDbContext> dbFactory) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            return TypedResults.Ok((await db.AlertChannels.AsNoTracking().OrderBy(c => c.Name).ToListAsync()).Select(AlertChannelDto.From));
        }).WithSummary("List alert channels (targets redacted: webhook URLs to their host)");

        group.MapPost("/", async (AlertChannelService channels, HttpContext context, AlertChannelRequest request) =>
        {
            var saved = await channels.SaveAsync(ToChannel(request, null), Name(context));
            return TypedResults.Created($"/api/v1/alert-channels/{saved.Id}", AlertChannelDto.From(saved));
        }).WithSummary("Add a channel: kind webhook, slack, teams or email; minimumSeverity; owner and tag limit it to those assets' findings");

        group.MapPut("/{id:int}", async Task<IResult> (AlertChannelService channels, IDbContextFactory<PortWatchDbContext> dbFactory, HttpContext context, int id, AlertChannelRequest request) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var existing = await db.AlertChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id);
            if (existing is null)
                return Results.Problem(statusCode: 404, title: $"alert channel {id} does not exist");
            return TypedResults.Ok(AlertChannelDto.From(await channels.SaveAsync(ToChannel(request, existing), Name(context))));
        }).WithSummary("Change a channel; an absent target keeps the stored one");

        group.MapDelete("/{id:int}", async (AlertChannelService channels, HttpContext context, int id) =>
        {
            await channels.DeleteAsync(id, Name(context));
            return TypedResults.NoContent();
        }).WithSummary("Delete a channel");
    }

    private static AlertChannel ToChannel(AlertChannelRequest r, AlertChannel? existing)
    {
        var errors = new InputException.Builder();
        if (existing is null && r.Kind is null)
            errors.Add("kind", "choose webhook, slack, teams or email");
        if (existing is null && string.IsNullOrWhiteSpace(r.Target))
            errors.Add("target", "a webhook URL or e-mail addresses are needed");
        errors.ThrowIfAny();
        return new AlertChannel
        {
            Id = existing?.Id ?? 0,
            Name = r.Name ?? existing?.Name ?? "",
            Kind = r.Kind ?? existing!.Kind,
            Target = string.IsNullOrWhiteSpace(r.Target) ? existing!.Target : r.Target,
            MinimumSeverity = r.MinimumSeverity ?? existing?.MinimumSeverity ?? Severity.High,
            Enabled = r.Enabled ?? existing?.Enabled ?? true,
            OwnerFilter = r.Owner ?? existing?.OwnerFilter,
            TagFilter = r.Tag ?? existing?.TagFilter,
        };
    }

    private static string Name(HttpContext context) => context.User.Identity?.Name ?? "unknown";
}
