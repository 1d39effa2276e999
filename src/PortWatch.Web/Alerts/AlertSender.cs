using System.Net.Mail;
using System.Text;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Alerts;

/// <summary>A delivery that did not go through, with a reason fit for the alert history.</summary>
public sealed class AlertDeliveryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Sends one digest to one channel: a JSON, Slack or Teams webhook, or e-mail over SMTP.</summary>
public sealed class AlertSender(IHttpClientFactory httpClients, IOptions<SmtpOptions> smtpOptions)
{
    public const string HttpClientName = "alerts";

    public async Task SendAsync(AlertChannel channel, AlertDigest digest, CancellationToken cancellationToken)
    {
        if (AlertChannelRules.TargetError(channel.Kind, channel.Target) is { } invalid)
            throw new AlertDeliveryException(invalid);
        switch (channel.Kind)
        {
            case AlertChannelKind.Webhook: await PostAsync(channel.Target, AlertFormatter.Webhook(digest), cancellationToken); break;
            case AlertChannelKind.Slack: await PostAsync(channel.Target, AlertFormatter.Slack(digest), cancellationToken); break;
            case AlertChannelKind.Teams: await PostAsync(channel.Target, AlertFormatter.Teams(digest), cancellationToken); break;
            case AlertChannelKind.Email: await MailAsync(channel.Target, digest, cancellationToken); break;
            default: throw new AlertDeliveryException($"unknown channel kind {channel.Kind}");
        }
    }

    private async Task PostAsync(string url, string json, CancellationToken cancellationToken)
    {
        var client = httpClients.CreateClient(HttpClientName);
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync(new Uri(url), content, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new AlertDeliveryException($"webhook {new Uri(url).Authority} unreachable: {Scanning.SafeText.ForTerminal(ex.Message, 300)}", ex);
        }
        using (response)
        {
            // The status only: a response body is the remote's text, and showing it would make every webhook a way to read internal pages.
            if (!response.IsSuccessStatusCode)
                throw new AlertDeliveryException($"webhook {new Uri(url).Authority} answered {(int)response.StatusCode}");
        }
    }

    private Task MailAsync(string recipients, AlertDigest digest, CancellationToken cancellationToken) =>
        SmtpMail.SendAsync(smtpOptions.Value, AlertChannelRules.Recipients(recipients), AlertFormatter.MailSubject(digest), AlertFormatter.MailBody(digest), cancellationToken);
}

/// <summary>What a channel's target must look like, and which findings it is for.</summary>
public static class AlertChannelRules
{
    public static string? TargetError(AlertChannelKind kind, string? target)
    {
        if (string.IsNullOrWhiteSpace(target))
            return kind == AlertChannelKind.Email ? "enter at least one e-mail address" : "enter the webhook URL";
        if (kind == AlertChannelKind.Email)
        {
            foreach (var part in target.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!MailAddress.TryCreate(part, out _))
                    return $"'{part}' is not an e-mail address";
            }
            return null;
        }
        return Uri.TryCreate(target.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? null
            : "the webhook URL must be an absolute http:// or https:// address";
    }

    /// <summary>What may be shown or logged of a target: webhook URLs carry their secret in the path, so the host only.</summary>
    /// <summary>Routing: a channel limited to an owner or a tag takes only findings on an asset with that owner and tag.</summary>
    public static bool Routes(AlertChannel channel, Asset? asset) =>
        (string.IsNullOrEmpty(channel.OwnerFilter) || string.Equals(asset?.Owner, channel.OwnerFilter, StringComparison.OrdinalIgnoreCase))
        && (string.IsNullOrEmpty(channel.TagFilter) || asset?.Tags.Contains(channel.TagFilter, StringComparer.OrdinalIgnoreCase) == true);

    public static string Redacted(AlertChannel channel) =>
        channel.Kind != AlertChannelKind.Email && Uri.TryCreate(channel.Target, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/…" : channel.Target;

    public static IEnumerable<MailAddress> Recipients(string target) =>
        target.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => new MailAddress(p));
}
