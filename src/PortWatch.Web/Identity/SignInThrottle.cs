using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Identity;

/// <summary>
/// Password guessing is throttled per source address (this limiter) as well as per account
/// (Identity's lockout): a fixed window of <see cref="SignInSessionOptions.SignInAttemptsPerMinute"/>
/// sign-in posts per client address. Behind a proxy the address is the forwarded one (Http:KnownProxies).
/// </summary>
public static class SignInThrottle
{
    public static IServiceCollection AddSignInThrottle(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!IsSignInAttempt(context.Request))
                    return RateLimitPartition.GetNoLimiter("");
                var perMinute = context.RequestServices.GetRequiredService<IOptions<SignInSessionOptions>>().Value.SignInAttemptsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                context.HttpContext.Response.ContentType = "text/plain; charset=utf-8";
                await context.HttpContext.Response.WriteAsync("Too many sign-in attempts from your address. Wait a minute and try again.", cancellationToken);
            };
        });
        return services;
    }

    private static bool IsSignInAttempt(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.StartsWithSegments(IdentityServiceCollectionExtensions.LoginPath, StringComparison.OrdinalIgnoreCase);
}
