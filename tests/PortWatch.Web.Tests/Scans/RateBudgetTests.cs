using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Tests.Scans;

/// <summary>The packet-rate budget on the real database: grants are shared by every shard of every node.</summary>
public class RateBudgetTests
{
    private static async Task<(PortWatchAppFactory App, long[] Shards)> SetUpAsync(int total)
    {
        var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Scanning:MaxTotalRatePps"] = total.ToString() });
        await using var db = await app.CreateDbContextAsync();
        var run = new ScanRun { Status = ScanRunStatus.Running, TargetSpec = "198.18.0.0/30", CreatedAt = DateTime.UtcNow };
        db.ScanRuns.Add(run);
        await db.SaveChangesAsync();
        var shards = Enumerable.Range(0, 3).Select(i => new ScanShard { ScanRunId = run.Id, Index = i, TargetCount = 1, Status = ScanRunStatus.Running, HeartbeatAt = DateTime.UtcNow }).ToList();
        db.ScanShards.AddRange(shards);
        await db.SaveChangesAsync();
        return (app, shards.Select(s => s.Id).ToArray());
    }

    [Fact]
    public async Task AcquireAsync_ConcurrentShards_NeverExceedTheTotal()
    {
        var (app, shards) = await SetUpAsync(10_000);
        using var _ = app;
        var budget = app.Services.GetRequiredService<RateBudget>();

        await using var first = await budget.AcquireAsync(shards[0], 8_000, CancellationToken.None);
        await using var second = await budget.AcquireAsync(shards[1], 8_000, CancellationToken.None);

        Assert.Equal(8_000, first.PacketsPerSecond);
        Assert.Equal(2_000, second.PacketsPerSecond); // what is left, not what was asked
        Assert.Equal(10_000, await budget.InUseAsync());
    }

    [Fact]
    public async Task AcquireAsync_NothingLeft_WaitsUntilAShardFinishes()
    {
        var (app, shards) = await SetUpAsync(1_000);
        using var _ = app;
        var budget = app.Services.GetRequiredService<RateBudget>();
        var first = await budget.AcquireAsync(shards[0], 1_000, CancellationToken.None);

        Assert.Null(await budget.TryAcquireAsync(shards[1], 500, CancellationToken.None)); // nothing left now
        var waiting = budget.AcquireAsync(shards[1], 500, CancellationToken.None);
        await first.DisposeAsync();
        await using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(500, second.PacketsPerSecond);
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_StopsWaiting()
    {
        var (app, shards) = await SetUpAsync(100);
        using var _ = app;
        var budget = app.Services.GetRequiredService<RateBudget>();
        await using var all = await budget.AcquireAsync(shards[0], 100, CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => budget.AcquireAsync(shards[1], 100, cancel.Token));
    }

    [Fact]
    public async Task AcquireAsync_ShardOfADeadNode_ItsGrantNoLongerCounts()
    {
        var (app, shards) = await SetUpAsync(1_000);
        using var _ = app;
        var budget = app.Services.GetRequiredService<RateBudget>();
        await using (var db = await app.CreateDbContextAsync())
        {
            // A node died holding the whole budget: its heartbeat stopped a minute ago (the lease is 20 s).
            var dead = await db.ScanShards.SingleAsync(s => s.Id == shards[0]);
            dead.GrantedRatePps = 1_000;
            dead.HeartbeatAt = DateTime.UtcNow.AddMinutes(-1);
            await db.SaveChangesAsync();
        }

        await using var lease = await budget.AcquireAsync(shards[1], 800, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(800, lease.PacketsPerSecond);
    }
}
