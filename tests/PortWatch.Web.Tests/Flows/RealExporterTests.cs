using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Flows;
using PortWatch.Web.Tests.Testbed;

namespace PortWatch.Web.Tests.Flows;

/// <summary>
/// End to end with Debian's softflowd on a router namespace: a listener opened on a new port of a
/// target and one connection to it through the router give a confirmed finding and a delivered
/// alert; a port the target only connected out to gives none.
/// </summary>
public sealed class RealExporterTests
{
    [RoutedNamespaceFact(Needs = [ExporterTestbed.Softflowd])]
    public Task Softflowd_Ipfix_NewListenerIsAlertedAndOutboundOnlyIsNot() => RunAsync(10);

    [RoutedNamespaceFact(Needs = [ExporterTestbed.Softflowd])]
    public Task Softflowd_NetflowV9_NewListenerIsAlertedAndOutboundOnlyIsNot() => RunAsync(9);

    [RoutedNamespaceFact(Needs = [ExporterTestbed.Softflowd])]
    public Task Softflowd_NetflowV5_NewListenerIsAlertedAndOutboundOnlyIsNot() => RunAsync(5);

    private static async Task RunAsync(int version)
    {
        using var testbed = new ExporterTestbed();
        using var webhook = new WebhookSink();
        var collectorPort = FreePorts.Udp(testbed.HostAddress);
        await using var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Flows:Enabled"] = "true",
            ["Flows:Port"] = collectorPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Flows:ListenAddress"] = testbed.HostAddress.ToString(),
            ["Flows:AllowedExporters:0"] = testbed.RouterAddress.ToString(),
            ["Alerts:RecheckTimeoutMs"] = "2000",
        });
        await using (var db = await app.CreateDbContextAsync())
        {
            db.Assets.Add(TestAssets.For(testbed.TargetAddress.ToString(), "target", "ops"));
            db.AlertChannels.Add(new AlertChannel { Name = "soc", Kind = AlertChannelKind.Webhook, Target = webhook.Url, MinimumSeverity = Severity.High, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        }
        var statistics = app.Services.GetRequiredService<FlowStatistics>();
        await testbed.StartExporterAsync(collectorPort, version);

        // The target connects out to a service on the client: its own address and an ephemeral port are in that flow.
        var clientService = testbed.Listen(testbed.Client, 8088);
        await ExporterTestbed.ConnectAsync(testbed.Target, testbed.ClientAddress, clientService);
        // Someone opens the Docker API (2375, critical in the catalogue) on the target, and one client connects to it. It sends
        // a megabyte: softflowd's libpcap capture hands packets over a buffer block at a time, and a quiet test link would
        // otherwise leave both connections' packets waiting in a block that never fills (a real edge router fills it at once).
        var dockerApi = testbed.Listen(testbed.Target, 2375);
        await ExporterTestbed.ConnectAsync(testbed.Client, testbed.TargetAddress, dockerApi, bytes: 1 << 20);

        var body = await Eventually.WaitAsync(() => Task.FromResult(webhook.Bodies.FirstOrDefault()), b => b is not null, TimeSpan.FromSeconds(45));
        var exporter = statistics.Of(testbed.RouterAddress);
        Assert.True(body is not null, $"no alert; softflowd running: {testbed.ExporterRunning} ({testbed.ExporterOutput}), packets {exporter.Packets}, flows {exporter.Flows}, candidates {exporter.Candidates}, " +
            $"drops {string.Join(",", exporter.Drops.Select(d => $"{d.Key}={d.Value}"))}, checks {string.Join("; ", statistics.RecentChecks.Select(c => $"{c.Address}:{c.Port} {c.Outcome}"))}");
        using var json = JsonDocument.Parse(body!);
        var item = json.RootElement.GetProperty("items")[0];
        Assert.Equal((testbed.TargetAddress.ToString(), dockerApi), (item.GetProperty("address").GetString(), item.GetProperty("port").GetInt32()));
        await using (var db = await app.CreateDbContextAsync())
        {
            var finding = await db.Findings.AsNoTracking().SingleAsync();
            Assert.Equal((dockerApi, PortState.Open, Severity.Critical), (finding.Port, finding.CurrentState, finding.Severity));
            var run = await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == finding.LastRunId);
            Assert.Equal(ScanTrigger.Flow, run.Trigger);
        }
        // The outbound connection's flow was seen too, and gave nothing: no finding for the client's port or the target's ephemeral one.
        Assert.True(exporter.Flows >= 2, $"{exporter.Flows} flows");
        Assert.DoesNotContain(statistics.RecentChecks, c => c.Port == clientService || (c.Outcome.StartsWith("open", StringComparison.Ordinal) && c.Port != dockerApi));
        Assert.Single(webhook.Bodies);
    }
}
