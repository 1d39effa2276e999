namespace PortWatch.Scanning.Probes;

/// <summary>
/// One batch of a port's probes, sent at once (each on its own connection or socket). Answers are
/// judged as they arrive, not when the slowest probe has waited out its time: a hard match that names
/// product and version is final and ends the batch at once; any other hard match waits for the rest
/// of the batch, and the richest wins (product and version, then product, then the name alone), the
/// probe tried first on a tie, as nmap's order would have it.
/// </summary>
internal static class ProbeBatch
{
    /// <param name="judge">Called on this method's flow, one answer at a time, in the order they arrive; returns what the answer
    /// identified (a softmatch or a hard match) or null. The caller keeps its own per-port state there.</param>
    /// <param name="settled">Checked after each answer: true ends the batch at once (a UDP port that sent back a port unreachable).</param>
    public static async Task<ServiceIdentity?> RunAsync<TAnswer>(IReadOnlyList<ServiceProbe> probes,
        Func<ServiceProbe, CancellationToken, Task<TAnswer>> exchange, Func<ServiceProbe, TAnswer, ServiceIdentity?> judge,
        CancellationToken cancellationToken, Func<bool>? settled = null)
    {
        using var batch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pending = probes.Select(async (probe, index) => (Index: index, Answer: await exchange(probe, batch.Token))).ToList();
        ServiceIdentity? best = null;
        var bestIndex = int.MaxValue;
        try
        {
            while (pending.Count > 0)
            {
                var done = await Task.WhenAny(pending);
                pending.Remove(done);
                var (index, answer) = await done;
                var judged = judge(probes[index], answer);
                if (settled?.Invoke() == true)
                    break;
                if (judged is not { IsSoftMatch: false } identity)
                    continue;
                if (best is null || Richness(identity) > Richness(best) || (Richness(identity) == Richness(best) && index < bestIndex))
                    (best, bestIndex) = (identity, index);
                if (Richness(best) == 3)
                    break; // nothing can say more
            }
            return best;
        }
        finally
        {
            await batch.CancelAsync();
            foreach (var rest in pending)
            {
                try
                {
                    await rest;
                }
                catch (OperationCanceledException)
                {
                    // cut short: this batch has its answer, or the port's time is up
                }
            }
        }
    }

    /// <summary>A hard match naming product and version: nothing another probe finds can say more.</summary>
    public static bool IsFinal(ServiceIdentity identity) => !identity.IsSoftMatch && Richness(identity) == 3;

    /// <summary>The richest of these hard matches, the probe tried first on a tie; null when there are none.</summary>
    public static ServiceIdentity? Best(IEnumerable<(int Index, ServiceIdentity Identity)> matches) =>
        matches.OrderByDescending(m => Richness(m.Identity)).ThenBy(m => m.Index).Select(m => m.Identity).FirstOrDefault();

    private static int Richness(ServiceIdentity identity) =>
        identity.Product is null ? 1 : string.IsNullOrEmpty(identity.Version) ? 2 : 3;
}
