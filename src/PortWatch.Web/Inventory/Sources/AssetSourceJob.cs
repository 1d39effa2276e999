using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using Quartz;

namespace PortWatch.Web.Inventory.Sources;

/// <summary>Fired by a source's cron trigger: one sync. One at a time per source, across the cluster too.</summary>
[DisallowConcurrentExecution]
public sealed class AssetSourceJob(AssetSourceSyncService syncs, ILogger<AssetSourceJob> logger) : IJob
{
    public const string SourceIdKey = "assetSourceId";
    public const string Group = "asset-sources";

    public static JobKey KeyFor(int sourceId) => new($"asset-source-{sourceId}", Group);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var id = context.MergedJobDataMap.GetInt(SourceIdKey);
        try
        {
            await syncs.SyncAsync(id, "schedule", cancellationToken);
        }
        catch (Common.InputException)
        {
            // The source was deleted between the trigger and now.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Asset source {SourceId}: scheduled sync failed", id);
        }
    }
}

/// <summary>Keeps one cron trigger per enabled source with a schedule, as ScheduleSynchronizer does for scan schedules (UTC).</summary>
public sealed class AssetSourceScheduler(IDbContextFactory<PortWatchDbContext> dbFactory, ISchedulerFactory schedulers, ILogger<AssetSourceScheduler> logger)
{
    public async Task SyncAllAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var id in await db.AssetSources.Select(s => s.Id).ToListAsync(cancellationToken))
            await SyncAsync(id, cancellationToken);
    }

    public async Task SyncAsync(int sourceId, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = AssetSourceJob.KeyFor(sourceId);
        await scheduler.DeleteJob(key, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var source = await db.AssetSources.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sourceId, cancellationToken);
        if (source is null || !source.Enabled || string.IsNullOrWhiteSpace(source.CronExpression))
            return;
        if (Schedules.ScheduleSynchronizer.ScheduleCronError(source.CronExpression, "UTC") is { } error)
        {
            logger.LogWarning("Asset source {Source} is not scheduled: {Error}", source.Name, error);
            return;
        }
        var job = JobBuilder.Create<AssetSourceJob>().WithIdentity(key).UsingJobData(AssetSourceJob.SourceIdKey, sourceId).Build();
        var trigger = TriggerBuilder.Create()
            .WithIdentity($"asset-source-{sourceId}-cron", AssetSourceJob.Group)
            .WithSchedule(CronScheduleBuilder.Create(source.CronExpression).InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .Build();
        await scheduler.ScheduleJob(job, trigger, cancellationToken: cancellationToken);
    }
}
