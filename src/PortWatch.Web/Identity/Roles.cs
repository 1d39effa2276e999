namespace PortWatch.Web.Identity;

/// <summary>Viewer reads; Analyst also triages and runs scans; Admin also configures.</summary>
public static class Roles
{
    public const string Admin = "Admin";
    public const string Analyst = "Analyst";
    public const string Viewer = "Viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Analyst, Viewer];

    /// <summary>Role list for [Authorize(Roles = ...)] on actions an analyst may take.</summary>
    public const string AnalystOrAdmin = Admin + "," + Analyst;
}
