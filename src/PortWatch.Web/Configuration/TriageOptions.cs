using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

/// <summary>Section "Triage": how findings are judged.</summary>
public sealed class TriageOptions
{
    public const string Section = "Triage";

    /// <summary>
    /// A host with more open ports than this in one run is a SYN proxy, tarpit or trap, not a
    /// server: it becomes one host-level finding instead of hundreds, and its ports are not probed.
    /// A run of a few ports (a sentinel pass) uses a share instead (RunTriageService.LooksLikeSynProxy).
    /// </summary>
    [Range(1, 65_535, ErrorMessage = "Triage:HostAnomalyOpenPortThreshold must be 1 to 65535 (default 100).")]
    public int HostAnomalyOpenPortThreshold { get; set; } = 100;
}
