using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortWatch.Tests.Shared;
using PortWatch.Web.Alerts;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;
using PortWatch.Web.Tests.Triage;
using static PortWatch.Web.Tests.Triage.TriageHarness;

namespace PortWatch.Web.Tests.Alerts;

/// <summary>
/// Confirmed alerts on a real database, delivered to real local endpoints: an HTTP listener and an
/// SMTP sink on 127.0.0.1. Re-checks connect to loopback listeners only.
/// </summary>
public sealed class AlertTests : IAsyncLifetime, IDisposable
{
    private const string Loopback = "127.0.0.1";
    private readonly WebhookSink webhook = new();
    private readonly SmtpSink smtp = new();
    private readonly LoopbackListener listener = new();
    private TriageHarness harness = null!;
    private ServiceProvider services = null!;

    public async Task InitializeAsync()
    {
        harness = await TriageHarness.CreateAsync();
        services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        // The baseline: the host was scanned once with nothing open.
        await harness.RunAsync(Loopback, TargetCoverageStatus.Complete);
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await harness.DisposeAsync();
    }

    public void Dispose()
    {
        webhook.Dispose();
        smtp.Dispose();
        listener.Dispose();
    }

    private AlertService Alerts(AlertOptions? options = null)
    {
        var alertOptions = Options.Create(options ?? new AlertOptions { RecheckTimeoutMs = 1000 });
        var probes = new ProbeDatabaseCache(Options.Create(new ScanningOptions { BuiltInProbesOnly = true }), NullLogger<ProbeDatabaseCache>.Instance);
        var sender = new AlertSender(services.GetRequiredService<IHttpClientFactory>(),
            Options.Create(new SmtpOptions { Host = "127.0.0.1", Port = smtp.Port, From = "portwatch@example.test" }));
        return new AlertService(harness, alertOptions, sender, new PortRechecker(probes, alertOptions), harness.Clock, NullLogger<AlertService>.Instance);
    }

    private async Task ChannelAsync(AlertChannelKind kind, string target, Severity minimum = Severity.High)
    {
        await using var db = harness.CreateDbContext();
        db.AlertChannels.Add(new AlertChannel { Name = $"{kind}", Kind = kind, Target = target, MinimumSeverity = minimum, CreatedAt = harness.Clock.UtcNow });
        await db.SaveChangesAsync();
    }

    private async Task HighRiskAsync(int port) =>
        await harness.Catalogue.SaveAsync(new RiskRule { Port = port, Protocol = TransportProtocol.Tcp, Name = "Test admin API", Severity = Severity.Critical }, "admin");

    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private async Task<List<AlertDelivery>> DeliveriesAsync()
    {
        await using var db = harness.CreateDbContext();
        return await db.AlertDeliveries.AsNoTracking().OrderBy(d => d.Id).ToListAsync();
    }

    [Fact]
    public async Task ProcessRun_NewHighRiskPortConfirmedOpen_OneWebhookDigestAndNoRepeatOnUnchangedRerun()
    {
        await HighRiskAsync(listener.Port);
        await ChannelAsync(AlertChannelKind.Webhook, webhook.Url);
        var alerts = Alerts();

        var run = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await alerts.ProcessRunAsync(run, CancellationToken.None);

        var body = Assert.Single(webhook.Bodies);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(run, json.RootElement.GetProperty("runId").GetInt64());
        var item = Assert.Single(json.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal(Loopback, item.GetProperty("address").GetString());
        Assert.Equal(listener.Port, item.GetProperty("port").GetInt32());
        Assert.Equal("new", item.GetProperty("change").GetString());
        Assert.StartsWith("confirmed open on re-check", item.GetProperty("recheck").GetString());
        var delivery = Assert.Single(await DeliveriesAsync());
        Assert.Equal(AlertDeliveryStatus.Sent, delivery.Status);
        Assert.Equal(1, delivery.Attempts);

        var rerun = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await alerts.ProcessRunAsync(rerun, CancellationToken.None);

        Assert.Single(webhook.Bodies);
        Assert.Single(await DeliveriesAsync());
    }

    [Fact]
    public async Task ProcessRun_ChannelsRoutedByOwner_EachTeamHearsOnlyOfItsOwnAssets()
    {
        using var storefront = new WebhookSink();
        await HighRiskAsync(listener.Port);
        await using (var db = harness.CreateDbContext())
        {
            var asset = TestAssets.For(Loopback, "payments edge", "payments", harness.Clock.UtcNow);
            asset.Tags = ["pci"];
            db.Assets.Add(asset);
            db.AlertChannels.Add(new AlertChannel { Name = "payments", Kind = AlertChannelKind.Webhook, Target = webhook.Url, MinimumSeverity = Severity.High, OwnerFilter = "Payments", CreatedAt = harness.Clock.UtcNow });
            db.AlertChannels.Add(new AlertChannel { Name = "storefront", Kind = AlertChannelKind.Webhook, Target = storefront.Url, MinimumSeverity = Severity.High, OwnerFilter = "storefront", CreatedAt = harness.Clock.UtcNow });
            db.AlertChannels.Add(new AlertChannel { Name = "pci", Kind = AlertChannelKind.Email, Target = "pci@example.test", MinimumSeverity = Severity.High, TagFilter = "pci", CreatedAt = harness.Clock.UtcNow });
            await db.SaveChangesAsync();
        }

        var run = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await Alerts().ProcessRunAsync(run, CancellationToken.None);

        Assert.Single(webhook.Bodies);
        Assert.Empty(storefront.Bodies);
        Assert.Single(smtp.Messages);
        Assert.Equal(2, (await DeliveriesAsync()).Count);
    }

    [Fact]
    public async Task ProcessRun_PortSeenOnARetiredAsset_IsRecordedFlaggedAndNotAlerted()
    {
        await HighRiskAsync(listener.Port);
        await ChannelAsync(AlertChannelKind.Webhook, webhook.Url);
        await using (var db = harness.CreateDbContext())
        {
            // Its sources dropped it; a scan typed by hand (or an import) still reaches the address.
            var asset = TestAssets.For(Loopback, "old edge", createdAt: harness.Clock.UtcNow);
            (asset.Enabled, asset.RetiredAt) = (false, harness.Clock.UtcNow);
            db.Assets.Add(asset);
            await db.SaveChangesAsync();
        }

        var run = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await Alerts().ProcessRunAsync(run, CancellationToken.None);

        var finding = await harness.FindingAsync(Loopback, listener.Port);
        Assert.Equal(PortState.Open, finding.CurrentState);
        Assert.True(finding.Flags.HasFlag(FindingFlags.AssetRetired));
        Assert.Empty(webhook.Bodies);
        Assert.Empty(await DeliveriesAsync());
    }

    [Fact]
    public async Task ProcessRun_PortGoneOnRecheck_NoAlertAndTheSuppressionIsRecorded()
    {
        var gone = ClosedPort();
        await HighRiskAsync(gone);
        await ChannelAsync(AlertChannelKind.Webhook, webhook.Url);

        var run = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, gone));
        await Alerts().ProcessRunAsync(run, CancellationToken.None);

        Assert.Empty(webhook.Bodies);
        Assert.Empty(await DeliveriesAsync());
        var finding = await harness.FindingAsync(Loopback, gone);
        Assert.Null(finding.AlertFingerprint); // still news if it shows up again
        var suppressed = Assert.Single(await harness.HistoryAsync(finding.Id), e => e.Kind == FindingEventKind.AlertSuppressed);
        Assert.Contains("not open on re-check", suppressed.Detail);
    }

    [Fact]
    public async Task ProcessRun_EmailChannel_DigestReachesTheSmtpServer()
    {
        await HighRiskAsync(listener.Port);
        await ChannelAsync(AlertChannelKind.Email, "soc@example.test, oncall@example.test");

        var run = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port, "http", "Evil\r\nBcc: victim@example.test"));
        await Alerts().ProcessRunAsync(run, CancellationToken.None);

        var (recipients, data) = Assert.Single(smtp.Messages);
        Assert.Equal(["soc@example.test", "oncall@example.test"], recipients);
        var headers = data[..data.IndexOf("\n\n", StringComparison.Ordinal)].Replace("\n ", " ", StringComparison.Ordinal);
        Assert.Contains($"Subject: [PortWatch] 1 newly open or changed port(s), 1 high-risk in scan run #{run}", headers);
        var body = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(data[(data.IndexOf("\n\n", StringComparison.Ordinal) + 2)..].Replace("\n", "", StringComparison.Ordinal)));
        Assert.Contains($"CRITICAL 127.0.0.1:{listener.Port}/tcp new", body);
        Assert.Contains(@"Evil\x0d\x0aBcc: victim@example.test", body);
        Assert.DoesNotContain("\nBcc:", data); // the banner's line break stayed inside the body, escaped
        Assert.Equal(AlertDeliveryStatus.Sent, Assert.Single(await DeliveriesAsync()).Status);
    }

    [Fact]
    public async Task ProcessRun_WebhookAnswersError_DeliveryRetriedWithBackoffUntilItGoesThrough()
    {
        await HighRiskAsync(listener.Port);
        await ChannelAsync(AlertChannelKind.Slack, webhook.Url);
        webhook.Answer = HttpStatusCode.InternalServerError;
        var alerts = Alerts();

        var run = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await alerts.ProcessRunAsync(run, CancellationToken.None);

        var failed = Assert.Single(await DeliveriesAsync());
        Assert.Equal(AlertDeliveryStatus.Pending, failed.Status);
        Assert.Equal(1, failed.Attempts);
        Assert.Contains("answered 500", failed.LastError);
        Assert.Equal(harness.Clock.UtcNow.AddMinutes(1), failed.NextAttemptAt);
        Assert.Equal(0, await alerts.RetryDueAsync(CancellationToken.None)); // not due yet

        webhook.Answer = HttpStatusCode.OK;
        harness.Clock.UtcNow = harness.Clock.UtcNow.AddMinutes(2);
        Assert.Equal(1, await alerts.RetryDueAsync(CancellationToken.None));

        var sent = Assert.Single(await DeliveriesAsync());
        Assert.Equal(AlertDeliveryStatus.Sent, sent.Status);
        Assert.Equal(2, sent.Attempts);
        Assert.Equal(2, webhook.Bodies.Count);
        Assert.Equal(0, await alerts.RetryDueAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ProcessRun_FlapDampingTwoOfThree_AlertsOnlyOnTheSecondSighting()
    {
        await HighRiskAsync(listener.Port);
        await ChannelAsync(AlertChannelKind.Webhook, webhook.Url);
        var alerts = Alerts(new AlertOptions { FlapRequiredRuns = 2, FlapWindowRuns = 3, RecheckTimeoutMs = 1000 });

        var first = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await alerts.ProcessRunAsync(first, CancellationToken.None);
        Assert.Empty(webhook.Bodies);
        Assert.Contains(await harness.ChangesAsync(first), e => e.Kind == FindingEventKind.AlertDeferred && e.Detail!.Contains("open in 1 of the last"));

        var second = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await alerts.ProcessRunAsync(second, CancellationToken.None);

        Assert.Single(webhook.Bodies);
    }

    [Fact]
    public async Task ProcessRun_NewPortBelowTheChannelsSeverity_NotAlertedNowOrLater()
    {
        await ChannelAsync(AlertChannelKind.Webhook, webhook.Url, Severity.High);
        var alerts = Alerts();

        var run = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await alerts.ProcessRunAsync(run, CancellationToken.None);
        var rerun = await harness.RunAsync(Loopback, TargetCoverageStatus.Complete, new Open(Loopback, listener.Port));
        await alerts.ProcessRunAsync(rerun, CancellationToken.None);

        Assert.Empty(webhook.Bodies);
        Assert.NotNull((await harness.FindingAsync(Loopback, listener.Port)).AlertFingerprint);
    }

    [Fact]
    public async Task SendTest_TeamsChannel_PostsAMessageCard()
    {
        var error = await Alerts().SendTestAsync(new AlertChannel { Name = "teams", Kind = AlertChannelKind.Teams, Target = webhook.Url }, CancellationToken.None);

        Assert.Null(error);
        using var json = JsonDocument.Parse(Assert.Single(webhook.Bodies));
        Assert.Equal("MessageCard", json.RootElement.GetProperty("@type").GetString());
        Assert.Contains("Test alert", json.RootElement.GetProperty("title").GetString());
    }

    [Fact]
    public async Task SendTest_UnreachableWebhook_SaysWhy()
    {
        var error = await Alerts().SendTestAsync(new AlertChannel { Name = "x", Kind = AlertChannelKind.Webhook, Target = $"http://127.0.0.1:{ClosedPort()}/hook" }, CancellationToken.None);

        Assert.Contains("unreachable", error);
    }
}
