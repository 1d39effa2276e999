using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PortWatch.Web.Data;

/// <summary>/health as JSON: the overall status and each check's status and reason (503 while Unhealthy, as before).</summary>
public static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
        }, cancellationToken: context.RequestAborted);
    }
}
