using PortWatch.Web.Common;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Alerts;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Tests.Security;

/// <summary>A webhook URL cannot make PortWatch call internal services, and what a webhook answers is never shown.</summary>
public sealed class WebhookForgeryTests : IDisposable
{
    private readonly WebhookSink internalService = new() { Answer = HttpStatusCode.InternalServerError, AnswerBody = "SECRET-INTERNAL-BODY" };
    private readonly PortWatchAppFactory app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
    {
        ["Alerts:AllowedWebhookHosts:0"] = "", // no exception for loopback: the default
    });

    public void Dispose()
    {
        app.Dispose();
        internalService.Dispose();
    }

    private async Task<T> WithChannelsAsync<T>(Func<AlertChannelService, Task<T>> action)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<AlertChannelService>());
    }

    [Theory]
    [InlineData("http://127.0.0.1:{port}/hooks")]
    [InlineData("http://localhost:{port}/hooks")]
    [InlineData("http://[::1]:{port}/hooks")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/hooks")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.1.2.3/hooks")]
    [InlineData("http://192.168.1.1/hooks")]
    [InlineData("http://0.0.0.0:{port}/hooks")]
    [InlineData("http://2130706433:{port}/hooks")]
    public async Task SaveChannel_InternalWebhookUrl_IsRefusedWithTheReason(string url)
    {
        var target = url.Replace("{port}", internalService.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var ex = await Assert.ThrowsAsync<InputException>(() => WithChannelsAsync(c =>
            c.SaveAsync(new AlertChannel { Name = "internal", Kind = AlertChannelKind.Webhook, Target = target, Enabled = true }, "admin")));

        Assert.Contains("Alerts:AllowedWebhookHosts", ex.Message, StringComparison.Ordinal);
        Assert.Empty(internalService.Bodies);
    }

    [Fact]
    public async Task SendTest_StoredChannelToLoopback_NeverReachesItAndSaysWhy()
    {
        // A channel written before the policy existed (or straight into the database) is checked when it connects.
        int id;
        await using (var db = await app.CreateDbContextAsync())
        {
            var channel = new AlertChannel { Name = "old", Kind = AlertChannelKind.Webhook, Target = internalService.Url, Enabled = true, CreatedAt = DateTime.UtcNow };
            db.AlertChannels.Add(channel);
            await db.SaveChangesAsync();
            id = channel.Id;
        }

        var error = await WithChannelsAsync(c => c.SendTestAsync(id, "admin"));

        Assert.NotNull(error);
        Assert.Contains("internal address", error, StringComparison.Ordinal);
        Assert.Empty(internalService.Bodies);
    }
}

/// <summary>An allowed host's answer shows as its status only.</summary>
public sealed class WebhookAnswerTests : IDisposable
{
    private readonly WebhookSink sink = new() { Answer = HttpStatusCode.InternalServerError, AnswerBody = "SECRET-INTERNAL-BODY" };
    private readonly PortWatchAppFactory app = PortWatchAppFactory.Create(); // allows 127.0.0.1, as an admin would for a local relay

    public void Dispose()
    {
        app.Dispose();
        sink.Dispose();
    }

    [Fact]
    public async Task SendTest_WebhookAnswersWithABody_ShowsTheStatusOnly()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var channels = scope.ServiceProvider.GetRequiredService<AlertChannelService>();
        var channel = await channels.SaveAsync(new AlertChannel { Name = "relay", Kind = AlertChannelKind.Webhook, Target = sink.Url, Enabled = true }, "admin");

        var error = await channels.SendTestAsync(channel.Id, "admin");

        Assert.Single(sink.Bodies);
        Assert.Equal("webhook 127.0.0.1:" + sink.Port + " answered 500", error);
        await using var db = await app.CreateDbContextAsync();
        Assert.DoesNotContain(db.AuditEntries.AsEnumerable(), e => (e.After ?? "").Contains("SECRET", StringComparison.Ordinal));
    }
}
