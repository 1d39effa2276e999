using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;
using PortWatch.Web.Scans;

namespace PortWatch.Web.Tests.Metrics;

/// <summary>/metrics in Prometheus format: behind sign-in (or an API token) on the dashboard's port, anonymous on its own port when configured.</summary>
public sealed class MetricsTests
{

    [Fact]
    public async Task Metrics_AfterAScan_ShowProbesRunsAndQueueToATokenButNotToAnonymous()
    {
        using var app = new PortWatchAppFactory();
        using var listener = new LoopbackListener();
        int profileId;
        await using (var db = await app.CreateDbContextAsync())
        {
            var profile = new ScanProfile { Name = "metrics", TcpPorts = $"1-200,{listener.Port}", Engine = ScanEngineKind.Connect, Retries = 0, TimeoutMs = 300, ServiceDetection = false };
            db.ScanProfiles.Add(profile);
            await db.SaveChangesAsync();
            profileId = profile.Id;
        }
        var runId = await app.Services.GetRequiredService<ScanQueue>().QueueAsync(new ScanRequest { Targets = "127.0.0.1", ProfileId = profileId });
        await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return (await db.ScanRuns.FindAsync(runId))!.Status;
        }, s => s == ScanRunStatus.Completed, TimeSpan.FromSeconds(30));

        using var anonymous = app.CreateNonRedirectingClient();
        var refused = await anonymous.GetAsync("/metrics");
        Assert.False(refused.IsSuccessStatusCode, $"anonymous /metrics answered {(int)refused.StatusCode}");

        using var client = await app.CreateTokenClientAsync("metrics-reader", Roles.Viewer);
        // The run gauges come from the supervisor's next pass (every few seconds).
        static bool CompletedRunCounted(string text) => text.Split('\n').Any(l => l.StartsWith("portwatch_runs{", StringComparison.Ordinal) && l.Contains("status=\"completed\"", StringComparison.Ordinal));
        var text = await Eventually.WaitAsync(() => client.GetStringAsync("/metrics"), CompletedRunCounted, TimeSpan.FromSeconds(15));

        Assert.True(text.Contains("portwatch_probes_sent_total", StringComparison.Ordinal), string.Join("\n", text.Split('\n').Where(l => l.Contains("portwatch", StringComparison.Ordinal))));
        Assert.Contains("portwatch_probes_answered_total", text, StringComparison.Ordinal);
        Assert.True(CompletedRunCounted(text), string.Join(" | ", text.Split('\n').Where(l => l.Contains("portwatch", StringComparison.Ordinal))));
        Assert.Contains("portwatch_queue_length", text, StringComparison.Ordinal);
        Assert.Contains("portwatch_packet_rate", text, StringComparison.Ordinal);
        var sent = text.Split('\n').First(l => l.StartsWith("portwatch_probes_sent_total", StringComparison.Ordinal) && !l.StartsWith('#'));
        Assert.True(double.Parse(sent.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) >= 201, sent);
    }

    [Fact]
    public async Task Metrics_OwnPortConfigured_ServesWithoutSignIn()
    {
        var port = FreePorts.Tcp();
        using var app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Metrics:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Metrics:Host"] = "127.0.0.1" });
        _ = app.Server;

        using var http = new HttpClient();
        var text = await Eventually.WaitAsync(async () =>
        {
            try
            {
                return await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            }
            catch (HttpRequestException)
            {
                return "";
            }
        }, t => t.Length > 0, TimeSpan.FromSeconds(10));

        Assert.Contains("portwatch_queue_length", text, StringComparison.Ordinal);
    }
}
