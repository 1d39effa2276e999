using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;

namespace PortWatch.Web.Identity;

public static class IdentityServiceCollectionExtensions
{
    public const string LoginPath = "/account/login";
    public const string AccessDeniedPath = "/account/access-denied";

    /// <summary>The sign-in cookie (chunked ones carry a suffix: PortWatch.AuthC1, ...).</summary>
    public const string CookieName = "PortWatch.Auth";

    private const string SelectorScheme = "TokenOrCookie";

    /// <summary>Cookie sign-in with ASP.NET Core Identity on the PortWatch database, API tokens for programs; everything requires sign-in unless marked otherwise.</summary>

    public static WebApplicationBuilder AddPortWatchIdentity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<SignInSessionOptions>(builder.Configuration, SignInSessionOptions.Section);
        services.AddCascadingAuthenticationState();
        services.AddScoped<PasswordSignIn>();
        services.AddSignInThrottle();
        services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();
        services.AddScoped<UserAccess>();
        services.AddScoped<UserTime>();
        services.AddScoped<UserAdminService>();

        services.AddScoped<Api.ApiTokenService>();
        services.AddAuthentication(options =>
            {
                options.DefaultScheme = SelectorScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            // A bearer token when the request carries one, the sign-in cookie otherwise.
            .AddPolicyScheme(SelectorScheme, "API token or cookie", policy => policy.ForwardDefaultSelector = context =>
                Api.ApiTokenAuthenticationHandler.HasBearer(context) ? Api.ApiTokenAuthenticationHandler.SchemeName : IdentityConstants.ApplicationScheme)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, Api.ApiTokenAuthenticationHandler>(Api.ApiTokenAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();

        services.AddIdentityCore<PortWatchUser>(options =>
            {
                options.Password.RequiredLength = 10;
                options.Password.RequireNonAlphanumeric = false;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                options.User.RequireUniqueEmail = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortWatchDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        // Not a fresh Events object: Identity's own cookie events (the security-stamp check) must stay.
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme).Configure<IOptions<SignInSessionOptions>>((options, sessions) =>
        {
            options.LoginPath = LoginPath;
            options.AccessDeniedPath = AccessDeniedPath;
            options.Cookie.Name = CookieName;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure over HTTPS, also behind a proxy (Http:KnownProxies)
            options.SlidingExpiration = true;
            options.ExpireTimeSpan = TimeSpan.FromHours(sessions.Value.SlidingExpirationHours);
            options.Events.OnSigningIn = SessionLifetime.OnSigningIn;
            options.Events.OnValidatePrincipal = SessionLifetime.OnValidatePrincipal;
            // Programs calling the API want a status code, not an HTML login page.
            options.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
            options.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
        });
        services.AddOptions<SecurityStampValidatorOptions>().Configure<IOptions<SignInSessionOptions>>((options, sessions) =>
        {
            options.ValidationInterval = TimeSpan.FromSeconds(sessions.Value.RevalidationSeconds);
            options.OnRefreshingPrincipal = SessionLifetime.CopySignInTime;
        });

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        return builder;
    }

    private static Task RedirectOrStatus(Microsoft.AspNetCore.Authentication.RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/api"))
            context.Response.StatusCode = status;
        else
            context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // A form post with an antiforgery token ([FromForm] makes minimal APIs validate it).
        endpoints.MapPost("/account/logout", async (SignInManager<PortWatchUser> signIn, [Microsoft.AspNetCore.Mvc.FromForm] string? returnUrl) =>
        {
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect(LoginPath);
        }).ExcludeFromDescription();
        return endpoints;
    }

    /// <summary>
    /// Only local paths: an open redirect after sign-in would be a phishing aid. What is kept is
    /// percent-encoded where it is not plain ASCII, since it becomes a Location header.
    /// </summary>
    public static string SafeReturnUrl(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || returnUrl.Length > 2000 || !returnUrl.StartsWith('/')
            || returnUrl.StartsWith("//", StringComparison.Ordinal) || returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            || returnUrl.Any(char.IsControl))
            return "/";
        var safe = new System.Text.StringBuilder(returnUrl.Length);
        foreach (var rune in returnUrl.EnumerateRunes())
        {
            if (rune.IsAscii && rune.Value > 0x20 && rune.Value != 0x7F)
                safe.Append((char)rune.Value);
            else
                safe.Append(Uri.EscapeDataString(rune.ToString()));
        }
        return safe.ToString();
    }
}
