using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Probes;

/// <summary>
/// nmap-style version detection on UDP ports. A UDP service has no banner and answers only a request
/// it understands, so the probes that list the port go first, then the others up to the intensity,
/// several at once, each from its own connected socket: its own source port, so an answer is known to
/// answer that probe. A hard match ends the search (<see cref="ProbeBatch"/>) and a softmatch narrows it, as on TCP.
/// Any answer shows the port open (nmap turns open|filtered into open the same way), and an ICMP port
/// unreachable shows it closed. Answers are attacker-controlled bytes, matched as Latin-1 text.
/// </summary>
public sealed class UdpServiceProbeRunner(ServiceProbeDatabase database, ProbeRunnerOptions? options = null, Func<AddressFamily, Socket>? socketFactory = null)
{
    private const int MaxDatagram = 65_535;

    private readonly ProbeRunnerOptions options = options ?? new ProbeRunnerOptions();
    private readonly Func<AddressFamily, Socket> newSocket = socketFactory ?? (family => new Socket(family, SocketType.Dgram, ProtocolType.Udp));

    /// <summary>Probes many ports concurrently; reports arrive as each port finishes.</summary>
    public IAsyncEnumerable<ServiceReport> ProbeManyAsync(IEnumerable<IPEndPoint> endpoints, CancellationToken cancellationToken = default) =>
        ServiceDetector.Concurrently(endpoints, e => e.Address, options, ProbeAsync, cancellationToken);

    /// <summary>One port's detection; a failure there is its report's error, never the end of the others'.</summary>
    public async Task<ServiceReport> ProbeAsync(IPEndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            return await ProbeCoreAsync(endpoint, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new ServiceReport(endpoint, null, false, null, null, [], SafeText.ForTerminal($"detection failed: {ex.GetType().Name}: {ex.Message}", 300), clock.Elapsed)
            {
                Protocol = PortProtocol.Udp,
            };
        }
    }

    private async Task<ServiceReport> ProbeCoreAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(options.PortBudget);
        var port = (ushort)endpoint.Port;
        ServiceIdentity? identity = null;
        byte[] banner = [];
        var answered = false;
        var refused = false;
        ServiceReport Report(string? error) => new(endpoint, identity, false, null, null, banner, error, clock.Elapsed)
        {
            Protocol = PortProtocol.Udp, Answered = answered, Refused = refused && !answered,
        };

        if (database.Excluded.Udp.Contains(port))
            return Report("port is excluded by the probe database");
        try
        {
            foreach (var batch in ChooseProbes(port).Chunk(options.ProbesInParallel))
            {
                budget.Token.ThrowIfCancellationRequested();
                var soft = identity is { IsSoftMatch: true } s ? s.Name : null;
                var candidates = soft is null ? batch : batch.Where(p => p.Matches.Any(m => !m.IsSoft && m.Service == soft) || p.Fallbacks.Count > 0).ToArray();
                var found = await ProbeBatch.RunAsync(candidates, (probe, ct) => ExchangeAsync(endpoint, probe, ct), (probe, answer) =>
                {
                    refused |= answer.Refused;
                    if (answer.Data.Length == 0)
                        return null;
                    answered = true;
                    if (banner.Length == 0)
                        banner = answer.Data.Length <= options.MaxBannerBytes ? answer.Data : answer.Data[..options.MaxBannerBytes];
                    var match = ServiceMatcher.Match(database, probe, answer.Data, soft);
                    if (match is { IsSoftMatch: true })
                        identity ??= match;
                    return match;
                }, budget.Token, settled: () => refused && !answered);
                if (found is not null)
                {
                    identity = found;
                    if (found.Name == "rpcbind" && await new RpcGrinder((family, _, _) => newSocket(family), options.ProbeWait)
                            .IdentifyAsync(endpoint, udp: true, budget.Token) is { } program)
                        identity = RpcGrinder.Describe(found, program);
                    return Report(null);
                }
                if (refused && !answered)
                    return Report(null); // port unreachable: nothing listens there
            }
            return Report(null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Report(identity is null ? "time budget used up" : null);
        }
    }

    /// <summary>
    /// UDP probes with a payload: those listing the port first (file order), then the rest up to the intensity.
    /// nmap's "no-payload" flag only keeps a probe out of UDP port scanning, so version detection sends it too.
    /// </summary>
    public IEnumerable<ServiceProbe> ChooseProbes(ushort port)
    {
        var udp = database.Probes.Where(p => p.Protocol == PortProtocol.Udp && p.Payload.Length > 0).ToList();
        return udp.Where(p => p.Ports.Contains(port)).Concat(udp.Where(p => !p.Ports.Contains(port) && p.Rarity <= options.Intensity));
    }

    /// <summary>One probe: send its payload from a fresh socket and collect what comes back until the wait is over
    /// or the peer has been quiet for a moment after its first datagram.</summary>
    private async Task<Answer> ExchangeAsync(IPEndPoint endpoint, ServiceProbe probe, CancellationToken cancellationToken)
    {
        using var socket = newSocket(endpoint.AddressFamily);
        var buffer = new byte[MaxDatagram];
        using var collected = new MemoryStream();
        var wait = TimeSpan.FromMilliseconds(probe.TotalWaitMs) < options.ProbeWait ? TimeSpan.FromMilliseconds(probe.TotalWaitMs) : options.ProbeWait;
        var started = Stopwatch.StartNew();
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            // Probing one of our own addresses from the port itself would hear our own datagram: not an answer.
            if (Connect.ConnectScanner.IsSelfConnect(socket))
                return new Answer([], false);
            await socket.SendAsync(probe.Payload, SocketFlags.None, cancellationToken);
            while (collected.Length < 64 * 1024)
            {
                var remaining = wait - started.Elapsed;
                if (collected.Length > 0 && remaining > options.IdleAfterData)
                    remaining = options.IdleAfterData;
                if (remaining <= TimeSpan.Zero)
                    break;
                using var read = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                read.CancelAfter(remaining);
                try
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, read.Token);
                    collected.Write(buffer, 0, n);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
            return new Answer(collected.ToArray(), false);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return new Answer(collected.ToArray(), collected.Length == 0);
        }
        catch (SocketException)
        {
            return new Answer(collected.ToArray(), false); // host or network unreachable, message too long: no verdict from this probe
        }
    }

    private sealed record Answer(byte[] Data, bool Refused);
}
