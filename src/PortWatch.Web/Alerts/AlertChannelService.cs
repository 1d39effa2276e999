using PortWatch.Web.Common;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Alerts;

/// <summary>Creates, edits, deletes and tests alert channels, each change audited.</summary>
public sealed class AlertChannelService(IDbContextFactory<PortWatchDbContext> dbFactory, AlertService alerts, WebhookAddressPolicy webhookPolicy, TimeProvider clock)
{
    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<AlertChannel> SaveAsync(AlertChannel input, string user, CancellationToken cancellationToken = default)
    {
        var errors = new InputException.Builder();
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 100)
            errors.Add(nameof(input.Name), "enter a name of at most 100 characters");
        if (!Enum.IsDefined(input.Kind))
            errors.Add(nameof(input.Kind), "choose a channel type");
        else if (AlertChannelRules.TargetError(input.Kind, input.Target) is { } targetError)
            errors.Add(nameof(input.Target), targetError);
        else if (input.Kind != AlertChannelKind.Email && webhookPolicy.TargetError(input.Target!.Trim()) is { } addressError)
            errors.Add(nameof(input.Target), addressError);
        if (input.Target?.Length > 2000)
            errors.Add(nameof(input.Target), "longer than 2000 characters");
        if (input.OwnerFilter?.Trim().Length > 200)
            errors.Add(nameof(input.OwnerFilter), "longer than 200 characters");
        if (input.TagFilter?.Trim().Length > 50)
            errors.Add(nameof(input.TagFilter), "longer than 50 characters");
        if (!Enum.IsDefined(input.MinimumSeverity))
            errors.Add(nameof(input.MinimumSeverity), "is not a severity");
        errors.ThrowIfAny();

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var name = input.Name.Trim();
        if (await db.AlertChannels.AnyAsync(c => c.Id != input.Id && c.Name == name, cancellationToken))
            throw new InputException(nameof(input.Name), $"a channel named '{name}' exists");
        AlertChannel channel;
        object? before = null;
        if (input.Id == 0)
        {
            channel = new AlertChannel { Name = name, Target = "", CreatedAt = Now };
            db.AlertChannels.Add(channel);
        }
        else
        {
            channel = await db.AlertChannels.SingleOrDefaultAsync(c => c.Id == input.Id, cancellationToken) ?? throw new InputException("id", $"channel #{input.Id} does not exist");
            before = AuditLog.Snapshot(channel);
        }
        channel.Name = name;
        channel.Kind = input.Kind;
        channel.Target = input.Target!.Trim();
        channel.MinimumSeverity = input.MinimumSeverity;
        channel.Enabled = input.Enabled;
        channel.OwnerFilter = string.IsNullOrWhiteSpace(input.OwnerFilter) ? null : input.OwnerFilter.Trim();
        channel.TagFilter = string.IsNullOrWhiteSpace(input.TagFilter) ? null : input.TagFilter.Trim();
        await db.SaveChangesWithAuditAsync(user, input.Id == 0 ? "alert-channel.create" : "alert-channel.update", nameof(AlertChannel),
            () => channel.Id, before, () => AuditLog.Snapshot(channel), Now, cancellationToken);
        return channel;
    }

    public async Task DeleteAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var channel = await db.AlertChannels.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw new InputException("id", $"channel #{id} does not exist");
        db.AlertChannels.Remove(channel);
        AuditLog.Record(db, user, "alert-channel.delete", nameof(AlertChannel), id, AuditLog.Snapshot(channel), null, Now);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Sends a sample alert; null when it went through, else the reason. Audited, since it reaches outside.</summary>
    public async Task<string?> SendTestAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var channel = await db.AlertChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw new InputException("id", $"channel #{id} does not exist");
        var error = await alerts.SendTestAsync(channel, cancellationToken);
        AuditLog.Record(db, user, "alert-channel.test", nameof(AlertChannel), id, null, new { Result = error ?? "sent" }, Now);
        await db.SaveChangesAsync(cancellationToken);
        return error;
    }
}
