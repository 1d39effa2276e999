using System.Diagnostics;

namespace PortWatch.Tests.Shared;

/// <summary>Polls until a condition holds or the time is up; never a fixed sleep.</summary>
public static class Eventually
{
    /// <returns>The last value read, for a precise assertion afterwards.</returns>
    public static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(15);
        while (true)
        {
            var value = await read();
            if (done(value) || deadline.Elapsed > limit)
                return value;
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(200));
        }
    }
}
