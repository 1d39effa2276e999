using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Jobs;

/// <summary>
/// Keeps the sum of the packet rates of the scans running on this node under
/// Scanning:MaxTotalRatePps: a scan gets what it asks for or what is left, and waits while
/// nothing meaningful is left. Concurrent scans cannot together flood a NAT gateway.
/// </summary>
public sealed class RateBudget(IOptions<ScanningOptions> options) : IDisposable
{
    private const int MinimumGrant = 100;
    private readonly SemaphoreSlim changed = new(0);
    private readonly object gate = new();
    private int inUse;

    public int Total => options.Value.MaxTotalRatePps;

    public int InUse
    {
        get
        {
            lock (gate)
                return inUse;
        }
    }

    public async Task<Lease> AcquireAsync(int requested, CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (gate)
            {
                var available = Total - inUse;
                if (available >= Math.Min(requested, MinimumGrant))
                {
                    var grant = Math.Min(requested, available);
                    inUse += grant;
                    return new Lease(this, grant);
                }
            }
            await changed.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    private void Release(int grant)
    {
        lock (gate)
            inUse -= grant;
        changed.Release();
    }

    public void Dispose() => changed.Dispose();

    public sealed class Lease(RateBudget budget, int packetsPerSecond) : IDisposable
    {
        private int released;

        public int PacketsPerSecond { get; } = packetsPerSecond;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
                budget.Release(PacketsPerSecond);
        }
    }
}
