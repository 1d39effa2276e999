using Microsoft.AspNetCore.Identity;

namespace PortWatch.Web.Identity;

public class PortWatchUser : IdentityUser
{
    public DateTime CreatedAt { get; set; }
}
