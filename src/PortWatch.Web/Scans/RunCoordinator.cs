using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Scans;

/// <summary>
/// A run's first job: checks the run, fixes its scope, splits its targets into shards (once: the
/// first node's split stands) and schedules the shards' jobs, which any node may pick up. When
/// every shard has ended already (a re-fire after a restart) it hands over to the finaliser.
/// </summary>
public sealed class RunCoordinator(
    RunPlanner planner,
    RunStore store,
    IOptions<ScanningOptions> options,
    ScanQueue queue,
    ScanProgressNotifier notifier,
    RunFinalizer finalizer)
{
    public async Task RunAsync(long runId, CancellationToken shutdown)
    {
        if (await planner.PlanAsync(runId, shutdown) is not { } plan)
            return;
        if (!await ShardsExistAsync(runId, shutdown))
        {
            if (await planner.FixScopeAsync(plan, shutdown) is not { } fixedPlan)
                return;
            plan = fixedPlan;
            await SplitAsync(plan, shutdown);
        }
        var seed = plan.Run.PermutationSeed ?? Random.Shared.NextInt64(1, long.MaxValue);
        await store.UpdateRunAsync(runId, r =>
        {
            if (r.Status == ScanRunStatus.Queued)
            {
                r.Status = ScanRunStatus.Running;
                r.PausedUntil = null; // it was waiting for its window, which has opened
            }
            r.StartedAt ??= store.Now;
            r.Phase ??= RunPhase.Discovery;
            r.PermutationSeed ??= seed;
            r.TargetCount = (long)plan.Targets.Count;
            r.PortCount = plan.PortsPerTarget;
        }, shutdown);
        notifier.PublishRunChanged(runId);

        List<ScanShard> shards;
        bool cancelRequested;
        await using (var db = await store.Contexts.CreateDbContextAsync(shutdown))
        {
            shards = await db.ScanShards.AsNoTracking().Where(s => s.ScanRunId == runId).ToListAsync(shutdown);
            cancelRequested = await db.ScanRuns.AnyAsync(r => r.Id == runId && r.CancelRequestedAt != null, shutdown);
        }
        if (!cancelRequested)
        {
            foreach (var shard in shards.Where(s => s.Status is ScanRunStatus.Queued or ScanRunStatus.Running))
                await queue.ScheduleShardAsync(runId, shard.Index, resumed: shard.Status == ScanRunStatus.Running, shutdown);
        }
        else
        {
            await CancelQueuedShardsAsync(runId, shutdown);
        }
        await finalizer.TryFinalizeAsync(runId, shutdown);
    }

    private async Task<bool> ShardsExistAsync(long runId, CancellationToken cancellationToken)
    {
        await using var db = await store.Contexts.CreateDbContextAsync(cancellationToken);
        return await db.ScanShards.AnyAsync(s => s.ScanRunId == runId, cancellationToken);
    }

    private async Task SplitAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        var shardSize = (ulong)options.Value.ShardSize;
        await store.WriteAsync($"shards of run {plan.Run.Id}", async db =>
        {
            if (await db.ScanShards.AnyAsync(s => s.ScanRunId == plan.Run.Id))
                return;
            for (ulong first = 0, index = 0; first < plan.Targets.Count; first += shardSize, index++)
            {
                db.ScanShards.Add(new ScanShard
                {
                    ScanRunId = plan.Run.Id, Index = (int)index, FirstTarget = (long)first,
                    TargetCount = (long)Math.Min(shardSize, plan.Targets.Count - first),
                });
            }
            try
            {
                await db.SaveChangesAsync();
            }
            catch (DbUpdateException ex) when (!Data.DatabaseWriteHealth.IsTransient(ex))
            {
                // Another node split this run a moment ago (the unique index on run and shard index): its shards stand.
            }
        }, cancellationToken);
    }

    /// <summary>A cancelled run's shards that never started never will.</summary>
    private Task<int> CancelQueuedShardsAsync(long runId, CancellationToken cancellationToken) =>
        store.WriteAsync($"cancel shards of run {runId}", db => db.ScanShards
            .Where(s => s.ScanRunId == runId && s.Status == ScanRunStatus.Queued)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, ScanRunStatus.Cancelled).SetProperty(s => s.FinishedAt, store.Now)), cancellationToken);
}
