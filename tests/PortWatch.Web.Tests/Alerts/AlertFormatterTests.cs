using System.Text.Json;
using PortWatch.Web.Alerts;

namespace PortWatch.Web.Tests.Alerts;

/// <summary>Banners are attacker-controlled: no channel may turn them into markup, mentions, links or headers.</summary>
public class AlertFormatterTests
{
    private static readonly AlertDigest Hostile = new(7, "[PortWatch] 1 newly open port in scan run #7", DateTime.UnixEpoch, null,
    [
        new AlertItem(1, "203.0.113.5", 8080, "tcp", "new", "High", "Unreviewed", null, "http", "<!channel> <https://evil.example|login> *urgent*", "1.0\r\nBcc: x@y",
            "<script>alert(1)</script>", null, null),
    ]);

    [Fact]
    public void Slack_HostileBanner_CannotMentionOrLink()
    {
        var text = JsonDocument.Parse(AlertFormatter.Slack(Hostile)).RootElement.GetProperty("text").GetString()!;

        Assert.DoesNotContain("<!channel>", text);
        Assert.DoesNotContain("<https://evil", text);
        Assert.Contains("&lt;!channel&gt;", text);
        Assert.Contains(@"1.0\x0d\x0aBcc: x@y", text);
    }

    [Fact]
    public void Teams_HostileBanner_IsHtmlAndMarkdownEscaped()
    {
        var text = JsonDocument.Parse(AlertFormatter.Teams(Hostile)).RootElement.GetProperty("text").GetString()!;

        Assert.DoesNotContain("<script>", text);
        Assert.Contains("&lt;script&gt;", text);
        Assert.Contains(@"\*urgent\*", text);
    }

    [Fact]
    public void Mail_HostileBanner_StaysOnOneBodyLine()
    {
        var body = AlertFormatter.MailBody(Hostile);

        Assert.DoesNotContain("\nBcc:", body);
        Assert.Single(body.Split('\n'), l => l.Contains("203.0.113.5:8080/tcp", StringComparison.Ordinal));
        Assert.DoesNotContain('\n', AlertFormatter.MailSubject(Hostile with { Subject = "a\r\nBcc: x@y" }));
    }

    [Fact]
    public void Webhook_HostileBanner_ControlCharactersEscaped()
    {
        var item = JsonDocument.Parse(AlertFormatter.Webhook(Hostile)).RootElement.GetProperty("items")[0];

        Assert.Equal(@"1.0\x0d\x0aBcc: x@y", item.GetProperty("version").GetString());
    }

    [Fact]
    public void Webhook_NoDashboardUrl_LeavesTheLinkOutInsteadOfNull()
    {
        var without = JsonDocument.Parse(AlertFormatter.Webhook(Hostile with { RunUrl = null })).RootElement;
        var with = JsonDocument.Parse(AlertFormatter.Webhook(Hostile with { RunUrl = "https://portwatch.example.test/scans/7" })).RootElement;

        Assert.False(without.TryGetProperty("runUrl", out _));
        Assert.Equal("https://portwatch.example.test/scans/7", with.GetProperty("runUrl").GetString());
        Assert.Equal("scan-digest", without.GetProperty("type").GetString());
    }
}
