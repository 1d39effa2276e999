using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Probes;

public sealed record ProbeRunnerOptions
{
    /// <summary>nmap's version intensity: probes rarer than this are tried only on ports they list.</summary>
    public int Intensity { get; init; } = 7;

    /// <summary>How long the NULL probe waits for a banner (nmap waits 6 s; most banners come in well under one).</summary>
    public TimeSpan BannerWait { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Longest wait for an answer to any other probe.</summary>
    public TimeSpan ProbeWait { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Once data has arrived, how long a quiet connection is given before the answer is considered complete.</summary>
    public TimeSpan IdleAfterData { get; init; } = TimeSpan.FromMilliseconds(300);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>All the time one port may take; a slow or silent port never holds up the others beyond this.</summary>
    public TimeSpan PortBudget { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>Probes in flight at once against one port, each on its own connection.</summary>
    public int ProbesInParallel { get; init; } = 8;

    /// <summary>Ports probed at once.</summary>
    public int Concurrency { get; init; } = 64;

    /// <summary>Ports of one host probed at once (each with up to <see cref="ProbesInParallel"/> connections).</summary>
    public int PortsPerHost { get; init; } = 16;

    public int MaxBannerBytes { get; init; } = 2048;
}

/// <summary>Everything service detection learned about one port. Text fields are attacker-controlled.</summary>
public sealed record ServiceReport(
    IPEndPoint Endpoint,
    ServiceIdentity? Service,
    bool TcpWrapped,
    TlsFacts? Tls,
    HttpFacts? Http,
    byte[] Banner,
    string? Error,
    TimeSpan Elapsed)
{
    public PortProtocol Protocol { get; init; } = PortProtocol.Tcp;

    /// <summary>UDP: some probe got an answer, so the port is open (even where the port scan saw only silence).</summary>
    public bool Answered { get; init; }

    /// <summary>UDP: an ICMP port unreachable and no answer to any probe: the port is closed.</summary>
    public bool Refused { get; init; }

    /// <summary>The name to show: the service, "ssl/http" style when it ran inside TLS, or tcpwrapped/unknown.</summary>
    public string DisplayName => Service is { } s
        ? (Tls is not null && !s.Name.StartsWith("ssl", StringComparison.Ordinal) ? $"ssl/{s.Name}" : s.Name)
        : TcpWrapped ? "tcpwrapped" : Tls is not null ? "ssl/unknown" : "unknown";
}

/// <summary>
/// nmap-style version detection on open TCP ports: the NULL probe (banner) first, then probes
/// chosen by port and rarity, softmatches narrowing the search, fallbacks, tcpwrapped
/// detection; TLS is detected, its certificate recorded, and the probes run inside it.
/// Probes of one port run several at a time on separate connections and every port has a
/// time budget, so silent services cost seconds, not minutes.
/// </summary>
public sealed class ServiceProbeRunner(ServiceProbeDatabase database, ProbeRunnerOptions? options = null, Func<AddressFamily, Socket>? socketFactory = null)
{
    private readonly ProbeRunnerOptions options = options ?? new ProbeRunnerOptions();
    private readonly Func<AddressFamily, Socket> newSocket = socketFactory ?? (family => new Socket(family, SocketType.Stream, ProtocolType.Tcp));

    public ServiceProbeDatabase Database => database;

    /// <summary>Probes many ports concurrently; reports arrive as each port finishes.</summary>
    public IAsyncEnumerable<ServiceReport> ProbeManyAsync(IEnumerable<IPEndPoint> endpoints, CancellationToken cancellationToken = default) =>
        ServiceDetector.Concurrently(endpoints, e => e.Address, options, ProbeAsync, cancellationToken);

    /// <summary>One port's detection. Whatever one host answers, only its own report says so: a failure there is the report's error.</summary>
    public async Task<ServiceReport> ProbeAsync(IPEndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            return await ProbeCoreAsync(endpoint, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new ServiceReport(endpoint, null, false, null, null, [], SafeText.ForTerminal($"detection failed: {ex.GetType().Name}: {ex.Message}", 300), clock.Elapsed);
        }
    }

    private async Task<ServiceReport> ProbeCoreAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(options.PortBudget);
        var port = (ushort)endpoint.Port;
        var state = new PortState(options.MaxBannerBytes);
        try
        {
            if (database.Excluded.Tcp.Contains(port))
                return Report(endpoint, state, "port is excluded by the probe database", clock);

            var nullProbe = database.Find(PortProtocol.Tcp, "NULL");
            // The NULL probe waits up to BannerWait for a banner. Meanwhile a TLS handshake and the first plaintext probes go out, each
            // on a connection of its own: a banner-first service answers the NULL probe and the rest is dropped, where a silent one would
            // otherwise cost the whole banner wait before its first probe. Each probe's answer carries any banner as well, so a final
            // match among the first probes settles the port without the banner once the handshake has shown it is not TLS.
            using var opening = CancellationTokenSource.CreateLinkedTokenSource(budget.Token);
            var bannerTask = ExchangeAsync(endpoint, null, [], options.BannerWait, opening.Token);
            var tlsTask = ExchangeAsync(endpoint, null, [], TimeSpan.FromMilliseconds(1), opening.Token, useTls: true);
            var firstProbes = ChooseProbes(port, tls: false).Take(options.ProbesInParallel).ToArray();
            var early = new System.Collections.Concurrent.ConcurrentQueue<(int Index, Exchange Answer)>();
            var firstTask = ProbeBatch.RunAsync(firstProbes, (probe, ct) => ExchangeAsync(endpoint, probe, probe.Payload, Wait(probe), ct),
                (probe, answer) =>
                {
                    early.Enqueue((Array.IndexOf(firstProbes, probe), answer));
                    return ServiceMatcher.Match(database, probe, answer.Data);
                }, opening.Token);
            var tried = new HashSet<ServiceProbe>();
            try
            {
                var settledTask = SettledWithoutBannerAsync(firstTask, tlsTask);
                var settled = await Task.WhenAny(bannerTask, settledTask) == settledTask && await settledTask;
                if (!settled)
                {
                    var banner = await bannerTask;
                    if (banner.ConnectError is { } connectError)
                        return Report(endpoint, state, connectError, clock);
                    state.Observe(banner);
                    if (nullProbe is not null && ServiceMatcher.Match(database, nullProbe, banner.Data) is { } fromBanner && state.Consider(fromBanner))
                        return await FinishAsync(endpoint, state, clock, budget.Token);
                    // A silent service may be speaking TLS: then the probes run inside it, and the plaintext answers are no evidence.
                    if (banner.Data.Length == 0 && await QuietlyAsync(tlsTask) is { Tls: not null } tls)
                    {
                        state.Tls = tls.Tls;
                        state.Observe(tls);
                    }
                }
                if (state.Tls is null)
                {
                    await QuietlyAsync(firstTask);
                    var hard = new List<(int Index, ServiceIdentity Identity)>();
                    foreach (var (index, answer) in early)
                    {
                        var probe = firstProbes[index];
                        tried.Add(probe);
                        state.Observe(answer);
                        if (probe.Name == "GetRequest" && answer.Data.Length > 0)
                            state.HttpResponse ??= answer.Data;
                        if (ServiceMatcher.Match(database, probe, answer.Data, state.SoftService) is not { } match)
                            continue;
                        if (match.IsSoftMatch)
                            state.Consider(match);
                        else
                            hard.Add((index, match));
                    }
                    tried.UnionWith(firstProbes);
                    if (ProbeBatch.Best(hard) is { } best && state.Consider(best))
                        return await FinishAsync(endpoint, state, clock, budget.Token);
                }
            }
            finally
            {
                await opening.CancelAsync();
                await QuietlyAsync(bannerTask);
                await QuietlyAsync(tlsTask);
                await QuietlyAsync(firstTask);
            }

            foreach (var batch in ChooseProbes(port, state.Tls is not null).Where(p => !tried.Contains(p)).Chunk(options.ProbesInParallel))
            {
                budget.Token.ThrowIfCancellationRequested();
                var candidates = state.SoftService is null ? batch : batch.Where(p => HasHardMatchFor(p, state.SoftService)).ToArray();
                var soft = state.SoftService;
                var found = await ProbeBatch.RunAsync(candidates, (probe, ct) => ExchangeAsync(endpoint, probe, probe.Payload, Wait(probe), ct, state.Tls is not null),
                    (probe, answer) =>
                    {
                        state.Observe(answer);
                        if (probe.Name == "GetRequest" && answer.Data.Length > 0)
                            state.HttpResponse ??= answer.Data;
                        var match = ServiceMatcher.Match(database, probe, answer.Data, soft);
                        if (match is { IsSoftMatch: true })
                            state.Consider(match);
                        return match;
                    }, budget.Token);
                if (found is not null && state.Consider(found))
                    return await FinishAsync(endpoint, state, clock, budget.Token);
            }
            return await FinishAsync(endpoint, state, clock, budget.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Report(endpoint, state, state.Identity is null ? "time budget used up" : null, clock);
        }
    }

    /// <summary>True when the first plaintext probes found a final match (product and version) and the TLS handshake failed.</summary>
    private static async Task<bool> SettledWithoutBannerAsync(Task<ServiceIdentity?> firstTask, Task<Exchange> tlsTask)
    {
        if (await QuietlyAsync(firstTask) is not { } found || !ProbeBatch.IsFinal(found))
            return false;
        return await QuietlyAsync(tlsTask) is { Tls: null, ConnectError: null };
    }

    /// <summary>The task's result, or the default when it was cancelled (a speculative exchange no longer needed).</summary>
    private static async Task<T?> QuietlyAsync<T>(Task<T> task)
    {
        try
        {
            return await task;
        }
        catch (OperationCanceledException)
        {
            return default;
        }
    }

    private TimeSpan Wait(ServiceProbe probe)
    {
        var wait = TimeSpan.FromMilliseconds(probe.TotalWaitMs);
        return wait < options.ProbeWait ? wait : options.ProbeWait;
    }

    /// <summary>Probes listing the port first (file order), then the rest up to the intensity; payload-less and UDP probes never.</summary>
    private IEnumerable<ServiceProbe> ChooseProbes(ushort port, bool tls)
    {
        var tcp = database.Probes.Where(p => p.Protocol == PortProtocol.Tcp && p.Name != "NULL" && !p.NoPayload && p.Payload.Length > 0).ToList();
        bool Lists(ServiceProbe p) => tls ? p.SslPorts.Contains(port) || p.Ports.Contains(port) : p.Ports.Contains(port);
        return tcp.Where(Lists).Concat(tcp.Where(p => !Lists(p) && p.Rarity <= options.Intensity));
    }

    private static bool HasHardMatchFor(ServiceProbe probe, string service) =>
        probe.Matches.Any(m => !m.IsSoft && m.Service == service) || probe.Fallbacks.Count > 0;

    private async Task<ServiceReport> FinishAsync(IPEndPoint endpoint, PortState state, Stopwatch clock, CancellationToken cancellationToken)
    {
        var name = state.Identity?.Name;
        if (name == "rpcbind" && state.Tls is null)
        {
            var grinder = new RpcGrinder((family, _, _) => newSocket(family), options.ProbeWait);
            if (await grinder.IdentifyAsync(endpoint, udp: false, cancellationToken) is { } program)
                state.Enrich(RpcGrinder.Describe(state.Identity!, program));
        }
        if (name == "mqtt" && state.Identity!.Product is null)
        {
            var answer = await ExchangeAsync(endpoint, null, MqttFacts.VersionRequest, options.ProbeWait, cancellationToken, state.Tls is not null);
            if (MqttFacts.BrokerVersion(answer.Data) is { } broker)
                state.Enrich(broker.Product, broker.Version);
        }
        var looksHttp = name is "http" or "https" or "http-proxy" || state.HttpResponse is not null && state.Identity is null;
        if (looksHttp && state.HttpResponse is null && database.Find(PortProtocol.Tcp, "GetRequest") is { } get)
        {
            var answer = await ExchangeAsync(endpoint, get, get.Payload, Wait(get), cancellationToken, state.Tls is not null);
            if (answer.Data.Length > 0)
                state.HttpResponse = answer.Data;
        }
        if (state.HttpResponse is not null && (looksHttp || name is null))
            state.Http = HttpFacts.TryParse(state.HttpResponse);
        return Report(endpoint, state, null, clock);
    }

    private static ServiceReport Report(IPEndPoint endpoint, PortState state, string? error, Stopwatch clock) =>
        new(endpoint, state.Identity, state.Identity is null && state.OnlyImmediateCloses, state.Tls, state.Http, state.Banner, error, clock.Elapsed);

    /// <summary>One connection: connect (and TLS), send the payload, read until the peer is done, closes, or the wait runs out.</summary>
    private async Task<Exchange> ExchangeAsync(IPEndPoint endpoint, ServiceProbe? probe, byte[] payload, TimeSpan wait, CancellationToken cancellationToken, bool useTls = false)
    {
        using var socket = newSocket(endpoint.AddressFamily);
        socket.LingerState = new LingerOption(true, 0);
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connect.CancelAfter(options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(endpoint, connect.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new Exchange([], false, null, "connect timed out");
            }
            catch (SocketException ex)
            {
                return new Exchange([], false, null, $"connect failed: {ex.SocketErrorCode}");
            }
        }
        await using var network = new NetworkStream(socket, ownsSocket: false);
        Stream stream = network;
        TlsFacts? tls = null;
        SslStream? ssl = null;
        try
        {
            if (useTls)
            {
                ssl = new SslStream(network, leaveInnerStreamOpen: true);
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                handshake.CancelAfter(options.ConnectTimeout);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = endpoint.Address.ToString(),
#pragma warning disable CA5359 // We identify the service and record its certificate as presented; nothing is trusted or sent.
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
                    EnabledSslProtocols = SslProtocols.None,
                }, handshake.Token);
                if (ssl.RemoteCertificate is { } remote)
                {
                    using var certificate = new X509Certificate2(remote);
                    tls = TlsFacts.From(ssl, certificate);
                }
                stream = ssl;
            }
            var started = Stopwatch.StartNew();
            if (payload.Length > 0)
                await stream.WriteAsync(payload, cancellationToken);
            var (data, closed) = await ReadAnswerAsync(stream, wait, cancellationToken);
            var immediateClose = closed && data.Length == 0 && started.Elapsed.TotalMilliseconds < (probe?.TcpWrappedMs ?? 3000);
            return new Exchange(data, immediateClose, tls, null);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new Exchange([], false, tls, null);
        }
        finally
        {
            if (ssl is not null)
                await ssl.DisposeAsync();
        }
    }

    private async Task<(byte[] Data, bool Closed)> ReadAnswerAsync(Stream stream, TimeSpan wait, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        using var collected = new MemoryStream();
        var deadline = Stopwatch.StartNew();
        while (collected.Length < 64 * 1024)
        {
            var remaining = wait - deadline.Elapsed;
            if (collected.Length > 0 && remaining > options.IdleAfterData)
                remaining = options.IdleAfterData;
            if (remaining <= TimeSpan.Zero)
                break;
            using var read = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            read.CancelAfter(remaining);
            int n;
            try
            {
                n = await stream.ReadAsync(buffer, read.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break; // quiet for long enough
            }
            catch (IOException)
            {
                return (collected.ToArray(), true);
            }
            if (n == 0)
                return (collected.ToArray(), true);
            collected.Write(buffer, 0, n);
        }
        return (collected.ToArray(), false);
    }

    private sealed record Exchange(byte[] Data, bool ImmediateClose, TlsFacts? Tls, string? ConnectError);

    /// <summary>What one port's probing has learned so far.</summary>
    private sealed class PortState(int maxBanner)
    {
        private bool anyAnswer;
        private bool anyExchange;

        public ServiceIdentity? Identity { get; private set; }

        public string? SoftService => Identity is { IsSoftMatch: true } soft ? soft.Name : null;

        public TlsFacts? Tls { get; set; }

        public HttpFacts? Http { get; set; }

        public byte[]? HttpResponse { get; set; }

        public byte[] Banner { get; private set; } = [];

        /// <summary>Every connection was closed by the peer at once without a byte: nmap's "tcpwrapped".</summary>
        public bool OnlyImmediateCloses => anyExchange && !anyAnswer;

        public void Observe(Exchange exchange)
        {
            anyExchange = true;
            if (exchange.Data.Length > 0 || !exchange.ImmediateClose)
                anyAnswer = true;
            if (Banner.Length == 0 && exchange.Data.Length > 0)
                Banner = exchange.Data.Length <= maxBanner ? exchange.Data : exchange.Data[..maxBanner];
        }

        /// <summary>Product and version learned after the match, from the protocol itself (an MQTT broker's $SYS topic).</summary>
        public void Enrich(string product, string? version) =>
            Identity = Identity! with { Product = product, Version = version ?? Identity.Version, IsSoftMatch = false };

        public void Enrich(ServiceIdentity identity) => Identity = identity;

        /// <summary>Keeps the identity; true when it is a hard match (done).</summary>
        public bool Consider(ServiceIdentity identity)
        {
            if (!identity.IsSoftMatch)
            {
                Identity = identity;
                return true;
            }
            Identity ??= identity;
            return false;
        }
    }
}
