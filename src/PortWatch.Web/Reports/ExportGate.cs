using System.Collections.Concurrent;

namespace PortWatch.Web.Reports;

/// <summary>
/// At most <see cref="PerUser"/> exports of one user stream at once on this node: an export of a
/// million findings holds a database connection and a core for seconds, and a script looping on
/// the export URL must not take the dashboard from everyone else.
/// </summary>
public sealed class ExportGate
{
    public const int PerUser = 2;

    private readonly ConcurrentDictionary<string, int> running = new(StringComparer.Ordinal);

    /// <summary>A slot for the user, or null when they already have <see cref="PerUser"/> exports running; dispose it when done.</summary>
    public IDisposable? TryEnter(string user)
    {
        while (true)
        {
            var now = running.GetOrAdd(user, 0);
            if (now >= PerUser)
                return null;
            if (running.TryUpdate(user, now + 1, now))
                return new Slot(this, user);
        }
    }

    private void Leave(string user)
    {
        while (true)
        {
            var now = running[user];
            if (now <= 1 ? running.TryRemove(new KeyValuePair<string, int>(user, now)) : running.TryUpdate(user, now - 1, now))
                return;
        }
    }

    private sealed class Slot(ExportGate gate, string user) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
                gate.Leave(user);
        }
    }
}
