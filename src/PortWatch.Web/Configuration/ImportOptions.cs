using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

/// <summary>Section "Imports": limits for Nmap and masscan files brought in for triage.</summary>
public sealed class ImportOptions
{
    public const string Section = "Imports";

    /// <summary>Largest file accepted, in megabytes; a larger one is refused before it is parsed.</summary>
    [Range(1, 4096, ErrorMessage = "Imports:MaxFileMegabytes must be 1 to 4096 (default 50).")]
    public int MaxFileMegabytes { get; set; } = 50;
}
