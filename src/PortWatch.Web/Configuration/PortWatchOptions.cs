namespace PortWatch.Web.Configuration;

/// <summary>Section "PortWatch": where the instance keeps its files.</summary>
public sealed class PortWatchOptions
{
    public const string Section = "PortWatch";

    /// <summary>Directory for the SQLite database and other state; relative paths are under the content root. Created on first start.</summary>
    public string DataDirectory { get; set; } = "data";
}
