using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace PortWatch.Web.Api;

/// <summary>
/// A request to /api whose body or parameters cannot be bound (JSON that does not parse, a value of
/// the wrong type, an enum value that does not exist) is answered with a 400 problem naming where
/// in the body the problem is, instead of an empty 400 (or the HTML error page). Registered with
/// RouteHandlerOptions.ThrowOnBadRequest, which makes every minimal API throw on such requests.
/// </summary>
public sealed class ApiExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // By now the request path may be the error page's; the feature keeps the one that failed.
        var path = httpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path ?? httpContext.Request.Path.Value ?? "";
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
            return false;
        if (!path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase))
        {
            // Elsewhere (the sign-in form) a request that cannot be bound is answered as before ThrowOnBadRequest: its status, no body.
            httpContext.Response.StatusCode = bad.StatusCode;
            return true;
        }
        var json = exception.InnerException as JsonException;
        var field = json?.Path is { Length: > 1 } jsonPath ? jsonPath.TrimStart('$', '.') : "request";
        var detail = json is null ? bad.Message : $"{(json.Path is { Length: > 1 } ? $"{json.Path}: " : "")}{FirstSentence(json.Message)}";
        await Results.Problem(statusCode: bad.StatusCode,
            title: bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large" : "The request cannot be read",
            detail: detail,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field.Length == 0 ? "request" : field] = [detail] } })
            .ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>System.Text.Json appends "Path: $.x | LineNumber: ..." to its messages; the path is given separately.</summary>
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
