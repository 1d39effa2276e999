using PortWatch.Web.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using Quartz;

namespace PortWatch.Web.Scans;

/// <summary>What to scan now: an ad-hoc target list, some assets, or every asset with a tag.</summary>
public sealed record ScanRequest
{
    public string? Targets { get; init; }

    public IReadOnlyList<int> AssetIds { get; init; } = [];

    public string? Tag { get; init; }

    public required int ProfileId { get; init; }

    public ScanTrigger Trigger { get; init; } = ScanTrigger.Manual;

    public int? ScheduleId { get; init; }

    public string? RequestedBy { get; init; }
}

/// <summary>A scan request that cannot be run, with a message for the person who made it.</summary>
public sealed class ScanRequestException(string message) : Exception(message);

/// <summary>Queues runs (a ScanRun row plus a durable Quartz job) and cancels them.</summary>
public sealed class ScanQueue(
    IDbContextFactory<PortWatchDbContext> dbFactory,
    ISchedulerFactory schedulers,
    ScanScope scope,
    ScanProgressNotifier notifier,
    TimeProvider clock)
{
    /// <exception cref="ScanRequestException">no targets, bad targets, out of scope, unknown profile.</exception>
    public Task<long> QueueAsync(ScanRequest request, CancellationToken cancellationToken = default) =>
        QueueAsync(request, null, cancellationToken);

    /// <param name="startAt">Later start (a schedule's window); null: now.</param>
    public async Task<long> QueueAsync(ScanRequest request, DateTimeOffset? startAt, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var profile = await db.ScanProfiles.AsNoTracking().SingleOrDefaultAsync(p => p.Id == request.ProfileId, cancellationToken)
            ?? throw new ScanRequestException($"scan profile {request.ProfileId} does not exist");
        if (profile.BuiltIn && request.Trigger != ScanTrigger.Sentinel)
            throw new ScanRequestException($"'{profile.Name}' is the sentinel tier's own profile; choose another");
        var specs = new List<string>();
        if (!string.IsNullOrWhiteSpace(request.Targets))
            specs.AddRange(TargetSet.Tokens([request.Targets]));
        if (request.AssetIds.Count > 0)
            specs.AddRange(await db.Assets.Where(a => request.AssetIds.Contains(a.Id) && a.Enabled).Select(a => a.Target).ToListAsync(cancellationToken));
        if (!string.IsNullOrWhiteSpace(request.Tag))
            specs.AddRange(await db.Assets.Where(a => a.Enabled && a.Tags.Contains(request.Tag)).Select(a => a.Target).ToListAsync(cancellationToken));
        if (specs.Count == 0)
            throw new ScanRequestException("nothing to scan: give targets, assets or a tag that matches enabled assets");
        try
        {
            var targets = TargetSet.Create(specs);
            await scope.CheckAsync(targets, cancellationToken);
            PortSet.Parse(profile.TcpPorts);
        }
        catch (TargetSpecException ex)
        {
            throw new ScanRequestException(ex.Message);
        }

        var run = new ScanRun
        {
            Status = ScanRunStatus.Queued,
            Trigger = request.Trigger,
            ScheduleId = request.ScheduleId,
            ScanProfileId = profile.Id,
            TargetSpec = string.Join(',', specs),
            RequestedBy = request.RequestedBy,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            PausedUntil = startAt > clock.GetUtcNow() ? startAt.Value.UtcDateTime : null,
        };
        db.ScanRuns.Add(run);
        if (request.Trigger is not (ScanTrigger.Scheduled or ScanTrigger.Sentinel)) // a pass every few minutes is not an action worth an audit entry
        {
            await db.SaveChangesWithAuditAsync(request.RequestedBy ?? "unknown", "run.start", nameof(ScanRun), () => run.Id, null,
                () => new { run.TargetSpec, Profile = profile.Name, run.Trigger }, run.CreatedAt, cancellationToken);
        }
        else
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        await ScheduleAsync(run.Id, startAt, cancellationToken);
        notifier.PublishRunChanged(run.Id);
        return run.Id;
    }

    public async Task ScheduleAsync(long runId, CancellationToken cancellationToken = default) =>
        await ScheduleAsync(runId, null, cancellationToken);

    public async Task ScheduleAsync(long runId, DateTimeOffset? startAt, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = ScanJob.KeyFor(runId);
        if (await scheduler.Exists(key, cancellationToken))
            return; // already queued, or being recovered by Quartz
        var job = JobBuilder.Create<ScanJob>()
            .WithIdentity(key)
            .UsingJobData(ScanJob.RunIdKey, runId)
            .RequestRecovery()
            .Build();
        var trigger = startAt is { } at
            ? TriggerBuilder.Create().WithIdentity($"run-{runId}-at", ScanJob.Group).StartAt(at).Build()
            : TriggerBuilder.Create().WithIdentity($"run-{runId}-now", ScanJob.Group).StartNow().Build();
        try
        {
            await scheduler.ScheduleJob(job, trigger, cancellationToken: cancellationToken);
        }
        catch (ObjectAlreadyExistsException)
        {
            // Another node of the cluster scheduled it first.
        }
    }

    /// <summary>Priority of a shard that continues from a checkpoint (taken over, resumed): ahead of fresh shards, whose default is 5.</summary>
    public const int ResumedShardPriority = 10;

    /// <summary>One shard's job: durable in the store and recoverable, so another node takes it over when this one dies.</summary>
    /// <param name="resumed">The shard has started before (a restart, a takeover): it goes ahead of fresh shards.</param>
    public async Task ScheduleShardAsync(long runId, int shard, bool resumed = false, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = ScanJob.KeyFor(runId, shard);
        var trigger = TriggerBuilder.Create()
            .WithIdentity($"run-{runId}-shard-{shard}-{(resumed ? $"resume-{clock.GetUtcNow().ToUnixTimeMilliseconds()}" : "now")}", ScanJob.Group)
            .WithPriority(resumed ? ResumedShardPriority : TriggerConstants.DefaultPriority)
            .StartNow();
        try
        {
            if (await scheduler.Exists(key, cancellationToken))
            {
                if (resumed)
                    await scheduler.ScheduleJob(trigger.ForJob(key).Build(), cancellationToken: cancellationToken); // fire the waiting job now, ahead of the queue
                return;
            }
            var job = JobBuilder.Create<ScanJob>()
                .WithIdentity(key)
                .UsingJobData(ScanJob.RunIdKey, runId)
                .UsingJobData(ScanJob.ShardKey, shard)
                .RequestRecovery()
                .Build();
            await scheduler.ScheduleJob(job, trigger.Build(), cancellationToken: cancellationToken);
        }
        catch (ObjectAlreadyExistsException)
        {
            // Another node scheduled it first.
        }
        catch (JobPersistenceException ex) when (ex.InnerException is null || ex.Message.Contains("does not exist", StringComparison.OrdinalIgnoreCase))
        {
            // The job ended between the check and the trigger: the shard's row tells the next look what to do.
        }
    }

    /// <summary>A look at finalising the run at <paramref name="at"/> (when the current holder's lease would expire).</summary>
    public async Task ScheduleFinalizeAsync(long runId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = ScanJob.FinalizeKeyFor(runId);
        var trigger = TriggerBuilder.Create()
            .WithIdentity($"run-{runId}-finalize-{at.ToUnixTimeSeconds()}", ScanJob.Group)
            .WithPriority(ResumedShardPriority)
            .StartAt(at);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                if (await scheduler.Exists(key, cancellationToken))
                {
                    await scheduler.ScheduleJob(trigger.ForJob(key).Build(), cancellationToken: cancellationToken);
                    return;
                }
                var job = JobBuilder.Create<ScanJob>()
                    .WithIdentity(key)
                    .UsingJobData(ScanJob.RunIdKey, runId)
                    .UsingJobData(ScanJob.FinalizeKey, true)
                    .RequestRecovery()
                    .Build();
                await scheduler.ScheduleJob(job, trigger.Build(), cancellationToken: cancellationToken);
                return;
            }
            catch (ObjectAlreadyExistsException)
            {
                // The same look is scheduled already (this second, by another node), or the job appeared meanwhile: try once more.
            }
            catch (JobPersistenceException) when (attempt == 0)
            {
                // The job's last trigger fired and it was removed between the check and the new trigger: create it again.
            }
        }
    }

    /// <summary>Fires a job again later (its schedule's window reopens); the job is still running now, so this adds a trigger.</summary>
    public async Task ContinueLaterAsync(JobKey job, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var trigger = TriggerBuilder.Create()
            .WithIdentity($"{job.Name}-continue-{at.ToUnixTimeSeconds()}", ScanJob.Group)
            .ForJob(job)
            .StartAt(at)
            .Build();
        await scheduler.ScheduleJob(trigger, cancellationToken: cancellationToken);
    }

    /// <summary>Asks for a run to stop; a queued run is cancelled at once. False when it had already finished.</summary>
    /// <param name="user">Who asked, for the audit log.</param>
    public async Task<bool> CancelAsync(long runId, string? user = null, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.ScanRuns.SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is null || run.Status is ScanRunStatus.Completed or ScanRunStatus.Failed or ScanRunStatus.Cancelled)
            return false;
        var now = clock.GetUtcNow().UtcDateTime;
        run.CancelRequestedAt = now;
        if (run.Status == ScanRunStatus.Queued)
        {
            run.Status = ScanRunStatus.Cancelled;
            run.FinishedAt = now;
            var scheduler = await schedulers.GetScheduler(cancellationToken);
            await scheduler.DeleteJob(ScanJob.KeyFor(runId), cancellationToken);
        }
        else
        {
            // Shards that have not started never will; running ones stop at their next heartbeat, and a shard whose node
            // is gone is ended by the run supervisor. The last one to end finalises the run as cancelled.
            await db.ScanShards.Where(s => s.ScanRunId == runId && s.Status == ScanRunStatus.Queued)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, ScanRunStatus.Cancelled).SetProperty(s => s.FinishedAt, now), cancellationToken);
        }
        if (user is not null)
            AuditLog.Record(db, user, "run.cancel", nameof(ScanRun), runId, null, null, now);
        await db.SaveChangesAsync(cancellationToken);
        notifier.PublishRunChanged(runId);
        return true;
    }
}
