using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

/// <summary>Section "PortWatch": where the instance keeps its files.</summary>
public sealed class PortWatchOptions
{
    public const string Section = "PortWatch";

    /// <summary>Directory for the SQLite database and other state; relative paths are under the content root. Created on first start.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "PortWatch:DataDirectory must name a directory (default data).")]
    public string DataDirectory { get; set; } = "data";
}
