using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PortWatch.Web.Data;

/// <summary>
/// Healthy when the database answers and takes writes; used by the container health check and
/// load balancers. A database that answers reads but refuses writes is Unhealthy, with the reason:
/// scans stall and changes are refused while it lasts. Writes are judged by this node's own last
/// attempts (<see cref="DatabaseWriteHealth"/>: scan writes, and the node's check-in every few seconds).
/// </summary>
public sealed class DatabaseHealthCheck(IDbContextFactory<PortWatchDbContext> dbFactory, DatabaseWriteHealth writes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Database.CanConnectAsync(cancellationToken))
            return HealthCheckResult.Unhealthy("the database does not answer");
        if (writes.Failure is { } failure)
            return HealthCheckResult.Unhealthy($"database writes fail since {failure.Since:u}: {failure.Reason}");
        return HealthCheckResult.Healthy("the database answers and takes writes");
    }
}
