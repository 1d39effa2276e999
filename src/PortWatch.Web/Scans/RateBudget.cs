using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Scans;

/// <summary>
/// Keeps the sum of the packet rates of all running shards, on every node of the cluster, under
/// Scanning:MaxTotalRatePps, so concurrent scans cannot together flood a NAT gateway's conntrack
/// table. Grants are recorded on the shard rows and computed under a lock (a PostgreSQL advisory
/// lock; SQLite has one writer anyway): a shard gets what it asks for or what is left, and waits
/// while nothing meaningful is left. A dead node's grants stop counting once its heartbeat has expired (Scanning:LeaseSeconds).
/// </summary>
public sealed class RateBudget(IDbContextFactory<PortWatchDbContext> dbFactory, IOptions<ScanningOptions> options, ResolvedDatabase database)
{
    private const int MinimumGrant = 100;
    private const long AdvisoryLockKey = 0x5057_5241_5445; // "PWRATE"

    public int Total => options.Value.MaxTotalRatePps;

    public async Task<int> InUseAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var alive = DateTime.UtcNow - TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        return await db.ScanShards.Where(s => s.Status == ScanRunStatus.Running && s.HeartbeatAt > alive).SumAsync(s => s.GrantedRatePps, cancellationToken);
    }

    public async Task<Lease> AcquireAsync(long shardId, int requested, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await TryAcquireAsync(shardId, requested, cancellationToken) is { } lease)
                return lease;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>A grant now, or null when less than the minimum grant is left.</summary>
    public async Task<Lease?> TryAcquireAsync(long shardId, int requested, CancellationToken cancellationToken) =>
        await TryGrantAsync(shardId, requested, cancellationToken) is { } grant ? new Lease(this, shardId, grant) : null;

    private async Task<int?> TryGrantAsync(long shardId, int requested, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // PostgreSQL: an advisory lock serialises grants across nodes. SQLite: Microsoft.Data.Sqlite
        // begins transactions IMMEDIATE, so the single writer lock is held from here already.
        if (database.Provider == DatabaseProvider.PostgreSQL)
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
        // A shard whose node stopped renewing its heartbeat holds nothing: its node is gone (or cut off, and then not sending either).
        var alive = DateTime.UtcNow - TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        var inUse = await db.ScanShards.Where(s => s.Status == ScanRunStatus.Running && s.Id != shardId && s.HeartbeatAt > alive)
            .SumAsync(s => s.GrantedRatePps, cancellationToken);
        var available = Total - inUse;
        if (available < Math.Min(requested, MinimumGrant))
            return null;
        var grant = Math.Min(requested, available);
        await db.ScanShards.Where(s => s.Id == shardId).ExecuteUpdateAsync(u => u.SetProperty(s => s.GrantedRatePps, grant), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return grant;
    }

    private async Task ReleaseAsync(long shardId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.ScanShards.Where(s => s.Id == shardId).ExecuteUpdateAsync(u => u.SetProperty(s => s.GrantedRatePps, 0));
    }

    public sealed class Lease(RateBudget budget, long shardId, int packetsPerSecond) : IAsyncDisposable
    {
        private int released;

        public int PacketsPerSecond { get; } = packetsPerSecond;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
                await budget.ReleaseAsync(shardId);
        }
    }
}
