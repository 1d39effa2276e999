using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

/// <summary>
/// Section "Admin": the administrator created on first start, when the database has no users.
/// Without a password a random one is generated and written to the log once.
/// </summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Admin:UserName must not be empty (default admin).")]

    public string UserName { get; set; } = "admin";

    public string Email { get; set; } = "admin@portwatch.local";

    public string? Password { get; set; }
}
