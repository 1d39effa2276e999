using System.Net.Mail;
using System.Text;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Alerts;

/// <summary>One plain-text mail through the configured server (Smtp section), for alert digests and assignment notices.</summary>
public static class SmtpMail
{
    /// <exception cref="AlertDeliveryException">No server is configured, or it refused or could not be reached; the message says which.</exception>
    public static async Task SendAsync(SmtpOptions smtp, IEnumerable<MailAddress> recipients, string subject, string body, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(smtp.Host))
            throw new AlertDeliveryException("no mail server configured (Smtp:Host)");
        using var message = new MailMessage
        {
            From = new MailAddress(smtp.From),
            Subject = subject,
            Body = body,
            IsBodyHtml = false,
            BodyEncoding = Encoding.UTF8,
            SubjectEncoding = Encoding.UTF8,
        };
        foreach (var address in recipients)
            message.To.Add(address);
        using var client = new SmtpClient(smtp.Host, smtp.Port) { EnableSsl = smtp.EnableSsl, Timeout = smtp.TimeoutMs };
        if (!string.IsNullOrEmpty(smtp.UserName))
            client.Credentials = new System.Net.NetworkCredential(smtp.UserName, smtp.Password);
        try
        {
            await client.SendMailAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is SmtpException or InvalidOperationException)
        {
            throw new AlertDeliveryException($"mail server {smtp.Host}:{smtp.Port}: {ex.Message}", ex);
        }
    }
}
