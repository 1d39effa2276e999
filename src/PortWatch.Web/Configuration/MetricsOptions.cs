using System.ComponentModel.DataAnnotations;

namespace PortWatch.Web.Configuration;

/// <summary>Section "Metrics": the Prometheus endpoint.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Serve /metrics at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// A separate port that serves /metrics without sign-in (for a Prometheus server that scrapes
    /// from inside the network); 0: none. On the dashboard's own port /metrics always needs a
    /// signed-in user or an API token.
    /// </summary>
    [Range(0, 65535, ErrorMessage = "Metrics:Port must be 0 (none) or a port number (default 0).")]
    public int Port { get; set; }

    /// <summary>The address the separate port listens on: "+" for all, or e.g. 127.0.0.1.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Metrics:Host must name an address to listen on, or + for all (default +).")]
    public string Host { get; set; } = "+";
}
