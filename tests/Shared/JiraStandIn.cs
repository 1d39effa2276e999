using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace PortWatch.Tests.Shared;

/// <summary>
/// A local stand-in for Jira's REST API v2 create-issue call (POST /rest/api/2/issue), checking each
/// request against the documented schema the way Jira does: JSON with a "fields" object whose
/// project (key or id), issuetype (name or id) and summary (text, at most 255 characters, one line)
/// are required, description text, labels words without spaces; authentication as configured. A
/// valid request gets 201 with id, key and self, as Jira answers; anything else 400 with Jira's
/// errorMessages and errors, or 401. Every request is kept for the test to look at.
/// </summary>
public sealed class JiraStandIn : LoopbackHttpServer
{
    private int next = 10000;

    public JiraStandIn(string project = "SEC", string user = "bot@example.test", string token = "jira-token")
    {
        (Project, User, Token) = (project, user, token);
    }

    public string Url => Root;

    public string Project { get; }

    public string User { get; }

    public string Token { get; }

    /// <summary>The issues made, by key: the request's fields as Jira would have stored them.</summary>
    public ConcurrentDictionary<string, JsonElement> Issues { get; } = new();

    /// <summary>Every request's reasons for refusal (empty list: accepted), in order.</summary>
    public ConcurrentQueue<IReadOnlyList<string>> Verdicts { get; } = new();

    protected override async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var body = await BodyAsync(request);
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Token}"));
        if (request.Headers["Authorization"] != expected)
        {
            Verdicts.Enqueue(["not authenticated"]);
            await WriteAsync(context, 401, new { errorMessages = new[] { "You are not authenticated. Authentication required to perform this operation." }, errors = new { } });
            return;
        }
        if (request.HttpMethod != "POST" || request.Url?.AbsolutePath != "/rest/api/2/issue")
        {
            Verdicts.Enqueue([$"{request.HttpMethod} {request.Url?.AbsolutePath} is not the create-issue call"]);
            await WriteAsync(context, 404, new { errorMessages = new[] { "Not found" }, errors = new { } });
            return;
        }
        var problems = new Dictionary<string, string>();
        var messages = new List<string>();
        JsonElement fields = default;
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            messages.Add($"Content-Type {request.ContentType} is not application/json");
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("fields", out var f) || f.ValueKind != JsonValueKind.Object)
                messages.Add("the body must be an object with a 'fields' object");
            else
            {
                foreach (var property in root.EnumerateObject())
                {
                    if (property.Name is not ("fields" or "update" or "transition" or "properties" or "historyMetadata"))
                        messages.Add($"unknown top-level property '{property.Name}'");
                }
                fields = f.Clone();
                Check(fields, problems);
            }
        }
        catch (JsonException ex)
        {
            messages.Add("Unexpected character in the JSON body: " + ex.Message);
        }
        var reasons = messages.Concat(problems.Select(p => $"{p.Key}: {p.Value}")).ToList();
        Verdicts.Enqueue(reasons);
        if (reasons.Count > 0)
        {
            await WriteAsync(context, 400, new { errorMessages = messages, errors = problems });
            return;
        }
        var id = Interlocked.Increment(ref next);
        var key = $"{Project}-{id - 10000}";
        Issues[key] = fields;
        await WriteAsync(context, 201, new { id = id.ToString(System.Globalization.CultureInfo.InvariantCulture), key, self = $"{Url}/rest/api/2/issue/{id}" });
    }

    private void Check(JsonElement fields, Dictionary<string, string> problems)
    {
        if (!fields.TryGetProperty("project", out var project) || project.ValueKind != JsonValueKind.Object
            || !(project.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String && key.GetString() == Project
                || project.TryGetProperty("id", out var pid) && pid.ValueKind == JsonValueKind.String))
            problems["project"] = "project is required";
        if (!fields.TryGetProperty("issuetype", out var type) || type.ValueKind != JsonValueKind.Object
            || !(type.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString()!.Length > 0
                || type.TryGetProperty("id", out var tid) && tid.ValueKind == JsonValueKind.String))
            problems["issuetype"] = "issue type is required";
        if (!fields.TryGetProperty("summary", out var summary) || summary.ValueKind != JsonValueKind.String || summary.GetString()!.Trim().Length == 0)
            problems["summary"] = "You must specify a summary of the issue.";
        else if (summary.GetString()!.Length > 255)
            problems["summary"] = "Summary must be less than 255 characters.";
        else if (summary.GetString()!.IndexOfAny(['\r', '\n']) >= 0)
            problems["summary"] = "The summary is invalid because it contains newline characters.";
        if (fields.TryGetProperty("description", out var description) && description.ValueKind != JsonValueKind.String)
            problems["description"] = "Operation value must be a string";
        if (fields.TryGetProperty("labels", out var labels))
        {
            if (labels.ValueKind != JsonValueKind.Array || labels.EnumerateArray().Any(l => l.ValueKind != JsonValueKind.String || l.GetString()!.Length == 0 || l.GetString()!.Any(char.IsWhiteSpace)))
                problems["labels"] = "The label must not contain spaces.";
        }
        foreach (var field in fields.EnumerateObject())
        {
            if (field.Name is not ("project" or "issuetype" or "summary" or "description" or "labels" or "priority" or "assignee" or "components"))
                problems[field.Name] = $"Field '{field.Name}' cannot be set. It is not on the appropriate screen, or unknown.";
        }
    }

    private static Task WriteAsync(HttpListenerContext context, int status, object body) =>
        WriteAsync(context.Response, status, JsonSerializer.Serialize(body), "application/json;charset=UTF-8");
}
