using PortWatch.Web.Scans;
using PortWatch.Web.Common;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Schedules;

/// <summary>Creates, edits and deletes schedules and scan profiles: checked, audited, and (for schedules) handed to Quartz at once.</summary>
public sealed class ScheduleService(IDbContextFactory<PortWatchDbContext> dbFactory, ScheduleSynchronizer synchronizer, ScanQueue queue, TimeProvider clock)
{
    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<Schedule> SaveScheduleAsync(Schedule input, string user, CancellationToken cancellationToken = default)
    {
        var errors = new InputException.Builder();
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 100)
            errors.Add(nameof(input.Name), "enter a name of at most 100 characters");
        if (ScheduleSynchronizer.ScheduleCronError(input.CronExpression?.Trim() ?? "", input.TimeZoneId ?? "UTC") is { } cron)
            errors.Add(nameof(input.CronExpression), cron);
        if (input.AssetSelection == ScheduleAssetSelection.Tag && string.IsNullOrWhiteSpace(input.AssetTag))
            errors.Add(nameof(input.AssetTag), "choose the tag");
        if (!Enum.IsDefined(input.AssetSelection))
            errors.Add(nameof(input.AssetSelection), $"{(int)input.AssetSelection} is not one of {string.Join(", ", Enum.GetNames<ScheduleAssetSelection>())}");
        if (input.AssetSelection == ScheduleAssetSelection.List && (input.AssetIds is null || input.AssetIds.Count == 0))
            errors.Add(nameof(input.AssetIds), "choose at least one asset");
        if ((input.WindowStart is null) != (input.WindowEnd is null))
            errors.Add(nameof(input.WindowEnd), "give both ends of the window, or neither");
        else if (input.WindowStart is { } start && start == input.WindowEnd)
            errors.Add(nameof(input.WindowEnd), "the window starts and ends at the same time");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.ScanProfiles.AnyAsync(p => p.Id == input.ScanProfileId && !p.BuiltIn, cancellationToken))
            errors.Add(nameof(input.ScanProfileId), "choose a scan profile");
        if (input.AssetSelection == ScheduleAssetSelection.List && input.AssetIds is { Count: > 0 } ids)
        {
            var known = await db.Assets.Where(a => ids.Contains(a.Id)).Select(a => a.Id).ToListAsync(cancellationToken);
            if (ids.Except(known).ToList() is { Count: > 0 } missing)
                errors.Add(nameof(input.AssetIds), $"no asset with id {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", ..." : "")}");
        }
        errors.ThrowIfAny();

        Schedule schedule;
        object? before = null;
        if (input.Id == 0)
        {
            schedule = new Schedule { Name = "", CronExpression = "", CreatedAt = Now };
            db.Schedules.Add(schedule);
        }
        else
        {
            schedule = await db.Schedules.SingleOrDefaultAsync(s => s.Id == input.Id, cancellationToken) ?? throw new InputException("id", $"schedule #{input.Id} does not exist");
            before = AuditLog.Snapshot(schedule);
        }
        schedule.Name = input.Name.Trim();
        schedule.CronExpression = (input.CronExpression ?? "").Trim();
        schedule.TimeZoneId = input.TimeZoneId ?? "UTC";
        schedule.ScanProfileId = input.ScanProfileId;
        schedule.AssetSelection = input.AssetSelection;
        schedule.AssetTag = input.AssetSelection == ScheduleAssetSelection.Tag ? input.AssetTag?.Trim() : null;
        schedule.AssetIds = input.AssetSelection == ScheduleAssetSelection.List ? (input.AssetIds ?? []).ToList() : [];
        schedule.Enabled = input.Enabled;
        schedule.WindowStart = input.WindowStart;
        schedule.WindowEnd = input.WindowEnd;
        schedule.UpdatedAt = Now;
        await db.SaveChangesWithAuditAsync(user, input.Id == 0 ? "schedule.create" : "schedule.update", nameof(Schedule),
            () => schedule.Id, before, () => AuditLog.Snapshot(schedule), Now, cancellationToken);
        await synchronizer.SyncAsync(schedule.Id, cancellationToken);
        return schedule;
    }

    /// <summary>Turns the schedule on or off (off: it fires no more runs; one already queued or running goes on).</summary>
    public async Task SetEnabledAsync(int id, bool enabled, string user, CancellationToken cancellationToken = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var schedule = await db.Schedules.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw new InputException("id", $"schedule #{id} does not exist");
            var before = AuditLog.Snapshot(schedule);
            schedule.Enabled = enabled;
            schedule.UpdatedAt = Now;
            await db.SaveChangesWithAuditAsync(user, enabled ? "schedule.enable" : "schedule.disable", nameof(Schedule), () => id, before, () => AuditLog.Snapshot(schedule), Now, cancellationToken);
        }
        await synchronizer.SyncAsync(id, cancellationToken);
    }

    /// <summary>Starts a run of the schedule now, outside its cron and window, unless one of its runs is already waiting or running.</summary>
    /// <returns>The new run's id.</returns>
    public async Task<long> RunNowAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var schedule = await db.Schedules.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw new InputException("id", $"schedule #{id} does not exist");
        if (await db.ScanRuns.AnyAsync(r => r.ScheduleId == id && (r.Status == ScanRunStatus.Queued || r.Status == ScanRunStatus.Running), cancellationToken))
            throw new InputException("id", $"schedule {schedule.Name} already has a run waiting or running");
        try
        {
            return await queue.QueueAsync(await ScheduledScanJob.RequestForAsync(db, schedule, user, cancellationToken), cancellationToken);
        }
        catch (ScanRequestException ex)
        {
            throw new InputException("id", ex.Message);
        }
    }

    public async Task DeleteScheduleAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var schedule = await db.Schedules.SingleOrDefaultAsync(s => s.Id == id, cancellationToken) ?? throw new InputException("id", $"schedule #{id} does not exist");
            db.Schedules.Remove(schedule);
            AuditLog.Record(db, user, "schedule.delete", nameof(Schedule), id, AuditLog.Snapshot(schedule), null, Now);
            await db.SaveChangesAsync(cancellationToken);
        }
        await synchronizer.SyncAsync(id, cancellationToken);
    }

    public async Task<ScanProfile> SaveProfileAsync(ScanProfile input, string user, CancellationToken cancellationToken = default)
    {
        var errors = new InputException.Builder();
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 100)
            errors.Add(nameof(input.Name), "enter a name of at most 100 characters");
        if (input.TcpEnabled)
            PortsError(errors, nameof(input.TcpPorts), input.TcpPorts, PortProtocol.Tcp);
        if (input.UdpEnabled)
            PortsError(errors, nameof(input.UdpPorts), input.UdpPorts, PortProtocol.Udp);
        if (!input.TcpEnabled && !input.UdpEnabled)
            errors.Add(nameof(input.TcpEnabled), "enable TCP, UDP or both");
        if (input.RatePps is < 1 or > 1_000_000)
            errors.Add(nameof(input.RatePps), "the rate must be 1 to 1,000,000 packets per second");
        if (input.Retries is < 0 or > 10)
            errors.Add(nameof(input.Retries), "retries must be 0 to 10");
        if (input.TimeoutMs is < 50 or > 60_000)
            errors.Add(nameof(input.TimeoutMs), "the timeout must be 50 to 60,000 ms");
        if (input.VersionIntensity is < 0 or > 9)
            errors.Add(nameof(input.VersionIntensity), "version intensity is 0 to 9");
        if (!Enum.IsDefined(input.Engine))
            errors.Add(nameof(input.Engine), $"{(int)input.Engine} is not one of {string.Join(", ", Enum.GetNames<ScanEngineKind>())}");
        errors.ThrowIfAny();

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.ScanProfiles.AnyAsync(p => p.Id != input.Id && p.Name == input.Name.Trim(), cancellationToken))
            throw new InputException(nameof(input.Name), $"a profile named '{input.Name.Trim()}' exists");
        ScanProfile profile;
        object? before = null;
        if (input.Id == 0)
        {
            profile = new ScanProfile { Name = "", CreatedAt = Now };
            db.ScanProfiles.Add(profile);
        }
        else
        {
            profile = await db.ScanProfiles.SingleOrDefaultAsync(p => p.Id == input.Id, cancellationToken) ?? throw new InputException("id", $"profile #{input.Id} does not exist");
            if (profile.BuiltIn)
                throw new InputException("id", $"'{profile.Name}' is kept by PortWatch (its ports are the risk catalogue's); change the catalogue or the Sentinel settings instead");
            before = AuditLog.Snapshot(profile);
        }
        profile.Name = input.Name.Trim();
        profile.Description = input.Description;
        profile.TcpPorts = input.TcpPorts?.Trim() ?? "";
        profile.UdpPorts = input.UdpPorts?.Trim() ?? "";
        profile.TcpEnabled = input.TcpEnabled;
        profile.UdpEnabled = input.UdpEnabled;
        profile.RatePps = input.RatePps;
        profile.Retries = input.Retries;
        profile.TimeoutMs = input.TimeoutMs;
        profile.Engine = input.Engine;
        profile.ServiceDetection = input.ServiceDetection;
        profile.VersionIntensity = input.VersionIntensity;
        profile.UpdatedAt = Now;
        await db.SaveChangesWithAuditAsync(user, input.Id == 0 ? "profile.create" : "profile.update", nameof(ScanProfile),
            () => profile.Id, before, () => AuditLog.Snapshot(profile), Now, cancellationToken);
        return profile;
    }

    public async Task DeleteProfileAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var profile = await db.ScanProfiles.SingleOrDefaultAsync(p => p.Id == id, cancellationToken) ?? throw new InputException("id", $"profile #{id} does not exist");
        if (profile.BuiltIn)
            throw new InputException("id", $"'{profile.Name}' is kept by PortWatch for the sentinel tier and cannot be deleted");
        if (await db.Schedules.AnyAsync(s => s.ScanProfileId == id, cancellationToken))
            throw new InputException("id", $"schedules use '{profile.Name}'; change them first");
        db.ScanProfiles.Remove(profile);
        AuditLog.Record(db, user, "profile.delete", nameof(ScanProfile), id, AuditLog.Snapshot(profile), null, Now);
        await db.SaveChangesAsync(cancellationToken);
    }

    private static void PortsError(InputException.Builder errors, string field, string? spec, PortProtocol protocol)
    {
        try
        {
            var set = PortSet.Parse(spec ?? "", protocol);
            if (set.Tcp.Count + set.Udp.Count == 0)
                errors.Add(field, "no ports selected");
        }
        catch (TargetSpecException ex)
        {
            errors.Add(field, ex.Message);
        }
    }
}
