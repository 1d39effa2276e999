using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Scans;

/// <summary>
/// The database writes of a running scan. A write the database refuses for a while (a full disk,
/// a locked or read-only file, a PostgreSQL restart) is retried with back-off for
/// Scanning:WriteRetrySeconds instead of failing the shard; the scan waits meanwhile, so it
/// continues from where it was once writes come back. Every attempt reports to
/// <see cref="DatabaseWriteHealth"/>, which /health shows.
/// </summary>
public sealed class RunStore(
    IDbContextFactory<PortWatchDbContext> dbFactory,
    IOptions<ScanningOptions> options,
    DatabaseWriteHealth health,
    TimeProvider clock,
    ILogger<RunStore> logger)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(5);

    public IDbContextFactory<PortWatchDbContext> Contexts => dbFactory;

    public DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>Runs <paramref name="write"/> on a fresh context until it succeeds, a non-transient error occurs or the retry time is over.</summary>
    /// <param name="cancellationToken">Stops the waiting (shutdown); a write that has started is not interrupted by it.</param>
    public async Task<T> WriteAsync<T>(string what, Func<PortWatchDbContext, Task<T>> write, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(options.Value.WriteRetrySeconds);
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
                var result = await write(db);
                health.Succeeded();
                return result;
            }
            catch (Exception ex) when (DatabaseWriteHealth.IsTransient(ex) && clock.GetUtcNow() < deadline && !cancellationToken.IsCancellationRequested)
            {
                health.Failed(ex);
                if (attempt == 1 || attempt % 10 == 0)
                    logger.LogWarning("Writing {What} failed ({Error}); retrying for up to {Seconds} s", what, DatabaseWriteHealth.Describe(ex), options.Value.WriteRetrySeconds);
                await Task.Delay(delay, clock, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(LongestDelay.Ticks, delay.Ticks * 2));
            }
            catch (Exception ex) when (DatabaseWriteHealth.IsTransient(ex))
            {
                health.Failed(ex);
                throw;
            }
        }
    }

    public Task WriteAsync(string what, Func<PortWatchDbContext, Task> write, CancellationToken cancellationToken) =>
        WriteAsync<bool>(what, async db =>
        {
            await write(db);
            return true;
        }, cancellationToken);

    public Task UpdateRunAsync(long runId, Action<ScanRun> change, CancellationToken cancellationToken) =>
        WriteAsync($"run {runId}", async db =>
        {
            var run = await db.ScanRuns.SingleAsync(r => r.Id == runId);
            change(run);
            await db.SaveChangesAsync();
        }, cancellationToken);

    public Task UpdateShardAsync(long shardId, Action<ScanShard> change, CancellationToken cancellationToken) =>
        WriteAsync($"shard {shardId}", async db =>
        {
            var shard = await db.ScanShards.SingleAsync(s => s.Id == shardId);
            change(shard);
            await db.SaveChangesAsync();
        }, cancellationToken);

    /// <summary>Ends a run that cannot be scanned, with the reason on it.</summary>
    public Task FailRunAsync(long runId, string error) =>
        UpdateRunAsync(runId, r =>
        {
            r.Status = ScanRunStatus.Failed;
            r.Error = error.Length > 4000 ? error[..4000] : error;
            r.StartedAt ??= Now;
            r.FinishedAt = Now;
            r.Phase = null;
            r.Node ??= ClusterNode.Id;
        }, CancellationToken.None);
}
