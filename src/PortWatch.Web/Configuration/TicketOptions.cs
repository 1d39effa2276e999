using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

/// <summary>
/// Section "Tickets": where "Create ticket" sends findings. Jira (REST API v2 create-issue) when
/// JiraUrl is set; a ticket webhook (JSON POST) when WebhookUrl is set. Both are set by the
/// operator, never by a dashboard user, so they may be internal addresses.
/// </summary>
public sealed class TicketOptions : IValidatableObject
{
    public const string Section = "Tickets";

    /// <summary>The Jira site, e.g. https://example.atlassian.net or https://jira.example.com; empty: no Jira.</summary>
    public string? JiraUrl { get; set; }

    /// <summary>The project key new issues go to (e.g. SEC).</summary>
    public string? JiraProject { get; set; }

    /// <summary>The issue type's name (Task, Bug, ...).</summary>
    public string JiraIssueType { get; set; } = "Task";

    /// <summary>With JiraApiToken: basic authentication (Jira Cloud: the account's e-mail). Empty: the token is sent as a bearer token (Jira Data Center personal access token).</summary>
    public string? JiraUser { get; set; }

    public string? JiraApiToken { get; set; }

    /// <summary>Labels every new issue gets (no spaces, as Jira requires).</summary>
    public List<string> JiraLabels { get; set; } = ["portwatch"];

    /// <summary>A URL that receives each ticket request as JSON; empty: no webhook.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Optional header for the webhook, "Name: value" (e.g. an authorization).</summary>
    public string? WebhookHeader { get; set; }

    [Range(1, 1000, ErrorMessage = "Tickets:MaxFindingsPerTicket must be 1 to 1000 (default 200).")]
    public int MaxFindingsPerTicket { get; set; } = 200;

    [Range(1000, 120_000, ErrorMessage = "Tickets:TimeoutMs must be 1000 to 120000 (default 15000).")]
    public int TimeoutMs { get; set; } = 15_000;

    public bool JiraEnabled => !string.IsNullOrWhiteSpace(JiraUrl);

    public bool WebhookEnabled => !string.IsNullOrWhiteSpace(WebhookUrl);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (JiraEnabled)
        {
            if (!IsHttpUrl(JiraUrl))
                yield return new ValidationResult($"Tickets:JiraUrl must be an absolute http(s) address, not '{JiraUrl}'.");
            if (string.IsNullOrWhiteSpace(JiraProject))
                yield return new ValidationResult("Tickets:JiraProject must name the project new issues go to (its key, e.g. SEC) when Tickets:JiraUrl is set.");
            if (string.IsNullOrWhiteSpace(JiraIssueType))
                yield return new ValidationResult("Tickets:JiraIssueType must name an issue type (default Task).");
            if (JiraLabels.Any(l => string.IsNullOrWhiteSpace(l) || l.Any(char.IsWhiteSpace)))
                yield return new ValidationResult("Tickets:JiraLabels must be words without spaces (Jira refuses others).");
        }
        if (WebhookEnabled && !IsHttpUrl(WebhookUrl))
            yield return new ValidationResult($"Tickets:WebhookUrl must be an absolute http(s) address, not '{WebhookUrl}'.");
        if (!string.IsNullOrWhiteSpace(WebhookHeader) && !WebhookHeader.Contains(':', StringComparison.Ordinal))
            yield return new ValidationResult("Tickets:WebhookHeader must be 'Name: value'.");
    }

    private static bool IsHttpUrl(string? value) => Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https";
}
