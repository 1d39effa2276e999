using Microsoft.AspNetCore.Identity;

namespace PortWatch.Web.Identity;

public class PortWatchUser : IdentityUser
{
    public DateTime CreatedAt { get; set; }

    /// <summary>The IANA time zone the user reads times in (e.g. Europe/Berlin); null: UTC.</summary>
    public string? TimeZone { get; set; }
}
