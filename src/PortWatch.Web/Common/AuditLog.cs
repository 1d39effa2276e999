using System.Text.Json;
using System.Text.Json.Serialization;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Common;

/// <summary>
/// Audit entries, always written in the same transaction as the change they describe, so there is
/// never a change without its entry or an entry without its change: <see cref="Record"/> adds one
/// to the context before the change's single SaveChanges; <see cref="SaveChangesWithAuditAsync"/>
/// is for entries that need what the save produces (a new row's id) and wraps both saves in one
/// transaction.
/// </summary>
public static class AuditLog
{
    private static readonly JsonSerializerOptions Json = new()
    {
        ReferenceHandler = ReferenceHandler.IgnoreCycles,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Record(PortWatchDbContext db, string user, string action, string entityType, object? entityId, object? before, object? after, DateTime now)
    {
        db.AuditEntries.Add(new AuditEntry
        {
            At = now,
            User = user,
            Action = action,
            EntityType = entityType,
            EntityId = entityId?.ToString(),
            Before = before is null ? null : JsonSerializer.Serialize(before, Json),
            After = after is null ? null : JsonSerializer.Serialize(after, Json),
        });
    }

    /// <summary>
    /// Saves the pending change, then its audit entry (whose id and after-image are read after the
    /// save, once new rows have their ids), in one transaction: both or neither. Inside a transaction
    /// the caller has begun, the entry joins it.
    /// </summary>
    public static async Task SaveChangesWithAuditAsync(this PortWatchDbContext db, string user, string action, string entityType,
        Func<object?> entityId, object? before, Func<object?> after, DateTime now, CancellationToken cancellationToken)
    {
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        await db.SaveChangesAsync(cancellationToken);
        Record(db, user, action, entityType, entityId(), before, after(), now);
        await db.SaveChangesAsync(cancellationToken);
        if (transaction is not null)
            await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The fields of an entity worth auditing, without navigation properties.</summary>
    public static object Snapshot(Finding f) => new { f.Id, f.Address, f.Port, f.Protocol, f.Status, f.Severity, f.SeverityOverride, f.Assignee, f.Notes, f.ExceptionRuleId };

    public static object Snapshot(ExceptionRule r) => new
    {
        r.Id, r.ScopeKind, r.ScopeValue, r.PortFrom, r.PortTo, r.Protocol, r.ExpectedService, r.ExpectedProduct,
        r.Reason, r.Approver, r.ExpiresAt, r.Severity, r.Enabled,
    };

    public static object Snapshot(RiskRule r) => new { r.Id, r.Port, r.Protocol, r.Name, r.Severity, r.Description };

    public static object Snapshot(AlertChannel c) => new { c.Id, c.Name, c.Kind, Target = Alerts.AlertChannelRules.Redacted(c), c.MinimumSeverity, c.Enabled, c.OwnerFilter, c.TagFilter };

    public static object Snapshot(Schedule s) => new { s.Id, s.Name, s.CronExpression, s.TimeZoneId, s.ScanProfileId, s.AssetSelection, s.AssetTag, s.AssetIds, s.Enabled, s.WindowStart, s.WindowEnd };

    public static object Snapshot(ScanProfile p) => new { p.Id, p.Name, p.TcpPorts, p.UdpPorts, p.TcpEnabled, p.UdpEnabled, p.RatePps, p.Retries, p.TimeoutMs, p.Engine, p.ServiceDetection, p.VersionIntensity };
}
