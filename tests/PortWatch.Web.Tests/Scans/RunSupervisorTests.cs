using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using Quartz;

namespace PortWatch.Web.Tests.Scans;

/// <summary>The run supervisor's pass over work whose node is gone.</summary>
public sealed class RunSupervisorTests
{
    [Fact]
    public async Task Supervise_PausedRunAndCancelledRunWithoutNodes_LeavesThePausedOneToItsWindowAndEndsTheCancelledOne()
    {
        using var app = new PortWatchAppFactory();
        long paused, cancelled;
        await using (var db = await app.CreateDbContextAsync())
        {
            var profile = new ScanProfile { Name = "supervised", TcpPorts = "1-100", Engine = ScanEngineKind.Connect, ServiceDetection = false };
            db.ScanProfiles.Add(profile);
            await db.SaveChangesAsync();
            // Paused at its window's end: the shard gave its claim up (no heartbeat) and waits for the window's trigger.
            var pausedRun = new ScanRun { Status = ScanRunStatus.Running, Phase = RunPhase.Paused, PausedUntil = DateTime.UtcNow.AddHours(5), ScanProfileId = profile.Id, TargetSpec = "192.0.2.1", CreatedAt = DateTime.UtcNow };
            var cancelledRun = new ScanRun { Status = ScanRunStatus.Running, Phase = RunPhase.Discovery, CancelRequestedAt = DateTime.UtcNow, ScanProfileId = profile.Id, TargetSpec = "192.0.2.2", CreatedAt = DateTime.UtcNow };
            db.ScanRuns.AddRange(pausedRun, cancelledRun);
            await db.SaveChangesAsync();
            db.ScanShards.AddRange(
                new ScanShard { ScanRunId = pausedRun.Id, Index = 0, TargetCount = 1, Status = ScanRunStatus.Running, Node = "gone:1", HeartbeatAt = null, CheckpointPosition = 50 },
                new ScanShard { ScanRunId = cancelledRun.Id, Index = 0, TargetCount = 1, Status = ScanRunStatus.Running, Node = "gone:1", HeartbeatAt = DateTime.UtcNow.AddMinutes(-5) });
            await db.SaveChangesAsync();
            (paused, cancelled) = (pausedRun.Id, cancelledRun.Id);
        }

        await app.Services.GetRequiredService<RunSupervisor>().SuperviseAsync(CancellationToken.None);

        var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.Empty(await scheduler.GetTriggersOfJob(ScanJob.KeyFor(paused, 0))); // not fired outside its window
        await using var check = await app.CreateDbContextAsync();
        Assert.Equal(ScanRunStatus.Running, (await check.ScanShards.SingleAsync(s => s.ScanRunId == paused)).Status);
        Assert.Equal(ScanRunStatus.Cancelled, (await check.ScanShards.SingleAsync(s => s.ScanRunId == cancelled)).Status);
    }
}
