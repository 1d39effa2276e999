using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

/// <summary>Section "Alerts": when an alert goes out and how hard delivery is retried.</summary>
public sealed class AlertOptions : IValidatableObject
{
    public const string Section = "Alerts";

    /// <summary>Re-check a newly open port (connect, then service detection) before alerting; a port gone on re-check is not alerted.</summary>
    public bool ConfirmBeforeAlert { get; set; } = true;

    /// <summary>Flap damping: alert only when the port was open in at least this many ...</summary>
    [Range(1, 100, ErrorMessage = "Alerts:FlapRequiredRuns must be 1 to 100 (default 1).")]
    public int FlapRequiredRuns { get; set; } = 1;

    /// <summary>... of the last this many runs that scanned its host. 1 and 1: no damping.</summary>
    [Range(1, 100, ErrorMessage = "Alerts:FlapWindowRuns must be 1 to 100 (default 1).")]
    public int FlapWindowRuns { get; set; } = 1;

    /// <summary>Connect timeout and banner wait of the re-check, in milliseconds; its service detection gets three times this.</summary>
    [Range(100, 60_000, ErrorMessage = "Alerts:RecheckTimeoutMs must be 100 to 60000 (default 3000).")]
    public int RecheckTimeoutMs { get; set; } = 3000;

    /// <summary>Delivery attempts per digest before it is marked failed; retries back off (1, 5, 15, 60 minutes...).</summary>
    [Range(1, 50, ErrorMessage = "Alerts:MaxDeliveryAttempts must be 1 to 50 (default 5).")]
    public int MaxDeliveryAttempts { get; set; } = 5;

    /// <summary>
    /// Webhook hosts that may be internal (loopback, private, link-local or this machine's own):
    /// host names, addresses or CIDR ranges. Everything else internal is refused (server-side request forgery).
    /// </summary>
    public List<string> AllowedWebhookHosts { get; set; } = [];

    /// <summary>The dashboard's public address, for links in alerts; empty: no links.</summary>
    public string? DashboardUrl { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (FlapRequiredRuns > FlapWindowRuns)
            yield return new ValidationResult($"Alerts:FlapRequiredRuns ({FlapRequiredRuns}) cannot be more than Alerts:FlapWindowRuns ({FlapWindowRuns}).");
        if (!string.IsNullOrEmpty(DashboardUrl) && !(Uri.TryCreate(DashboardUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
            yield return new ValidationResult($"Alerts:DashboardUrl must be an absolute http(s) address, not '{DashboardUrl}'.");
    }
}
