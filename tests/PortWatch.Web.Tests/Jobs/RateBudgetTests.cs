using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Jobs;

namespace PortWatch.Web.Tests.Jobs;

public class RateBudgetTests
{
    private static RateBudget Budget(int total) => new(Options.Create(new ScanningOptions { MaxTotalRatePps = total }));

    [Fact]
    public async Task AcquireAsync_ConcurrentScans_NeverExceedTheTotal()
    {
        using var budget = Budget(10_000);

        using var first = await budget.AcquireAsync(8_000, CancellationToken.None);
        using var second = await budget.AcquireAsync(8_000, CancellationToken.None);

        Assert.Equal(8_000, first.PacketsPerSecond);
        Assert.Equal(2_000, second.PacketsPerSecond); // what is left, not what was asked
        Assert.Equal(10_000, budget.InUse);
    }

    [Fact]
    public async Task AcquireAsync_NothingLeft_WaitsUntilAScanFinishes()
    {
        using var budget = Budget(1_000);
        var first = await budget.AcquireAsync(1_000, CancellationToken.None);

        var waiting = budget.AcquireAsync(500, CancellationToken.None);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        first.Dispose();
        using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(500, second.PacketsPerSecond);
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_StopsWaiting()
    {
        using var budget = Budget(100);
        using var all = await budget.AcquireAsync(100, CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => budget.AcquireAsync(100, cancel.Token));
    }
}
