using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Tickets;

/// <summary>"Create ticket" through the real host: Jira's create-issue call against a stand-in that checks its schema, the ticket webhook, and the API's refusals.</summary>
public sealed class TicketTests : IAsyncLifetime
{
    private readonly JiraStandIn jira = new();
    private readonly WebhookSink webhook = new();
    private PortWatchAppFactory app = null!;

    public Task InitializeAsync()
    {
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Tickets:JiraUrl"] = jira.Url,
            ["Tickets:JiraProject"] = jira.Project,
            ["Tickets:JiraIssueType"] = "Bug",
            ["Tickets:JiraUser"] = jira.User,
            ["Tickets:JiraApiToken"] = jira.Token,
            ["Tickets:WebhookUrl"] = webhook.Url,
            ["Tickets:WebhookHeader"] = "X-Ticket-Secret: s3cret",
            ["Alerts:DashboardUrl"] = "https://portwatch.example.test",
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        jira.Dispose();
        webhook.Dispose();
    }

    private async Task<long> FindingAsync(string address, int port, string? product = null)
    {
        await using var db = await app.CreateDbContextAsync();
        var finding = new Finding
        {
            Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), Port = port, CurrentState = PortState.Open, ServiceName = "redis", Product = product,
            Severity = Severity.High, FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow,
        };
        db.Findings.Add(finding);
        await db.SaveChangesAsync();
        return finding.Id;
    }

    private async Task<HttpClient> ClientAsync(string user, string role)
    {
        var client = app.CreateNonRedirectingClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await app.CreateApiTokenAsync(user, role));
        return client;
    }

    [Fact]
    public async Task CreateTicket_Jira_SendsAValidCreateIssueAndKeepsTheLinkOnEachFinding()
    {
        var first = await FindingAsync("198.51.100.30", 6379, "Redis key-value store");
        // Scanned text that would be Jira markup or end the no-format block must stay inert.
        var second = await FindingAsync("198.51.100.31", 6380, "{noformat}[click|https://evil.example] *bold*");
        using var client = await ClientAsync("tess", Roles.Analyst);

        var response = await client.PostAsJsonAsync("/api/v1/findings/tickets", new { ids = new[] { first, second }, system = "jira" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("jira", "SEC-1", $"{jira.Url}/browse/SEC-1", 2),
            (body.GetProperty("system").GetString(), body.GetProperty("key").GetString(), body.GetProperty("url").GetString(), body.GetProperty("findings").GetInt32()));
        Assert.Empty(Assert.Single(jira.Verdicts));
        var fields = jira.Issues["SEC-1"];
        Assert.Equal("Bug", fields.GetProperty("issuetype").GetProperty("name").GetString());
        Assert.Equal("PortWatch: 2 findings on 2 hosts", fields.GetProperty("summary").GetString());
        var description = fields.GetProperty("description").GetString()!;
        Assert.Contains("198.51.100.30 6379/tcp", description);
        Assert.Contains("https://portwatch.example.test/findings/" + first, description);
        Assert.Equal(2, description.Split("{noformat}").Length - 1); // the block opens and closes once: the scanned tag was defused
        Assert.Contains("{ noformat}[click|https://evil.example]", description);

        await using var db = await app.CreateDbContextAsync();
        var tickets = await db.FindingTickets.OrderBy(t => t.FindingId).ToListAsync();
        Assert.Equal([(first, "SEC-1"), (second, "SEC-1")], tickets.Select(t => (t.FindingId, t.Key)));
        Assert.All(tickets, t => Assert.Equal(($"{jira.Url}/browse/SEC-1", "tess"), (t.Url, t.CreatedBy)));
        Assert.Equal(2, await db.FindingEvents.CountAsync(e => e.Kind == FindingEventKind.TicketCreated && e.Detail == "Jira ticket SEC-1 by tess"));
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "finding.ticket" && a.User == "tess"));
        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/v1/findings/{first}");
        Assert.Equal("SEC-1", detail.GetProperty("tickets")[0].GetProperty("key").GetString());
    }

    [Fact]
    public async Task CreateTicket_JiraRefuses_SaysJirasReasonAndStoresNothing()
    {
        await app.DisposeAsync();
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Tickets:JiraUrl"] = jira.Url, ["Tickets:JiraProject"] = "NOPE", ["Tickets:JiraUser"] = jira.User, ["Tickets:JiraApiToken"] = jira.Token,
        });
        var id = await FindingAsync("198.51.100.32", 6379);
        using var client = await ClientAsync("tess", Roles.Analyst);

        var response = await client.PostAsJsonAsync("/api/v1/findings/tickets", new { ids = new[] { id }, system = "jira" });

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("Jira answered 400", problem.GetProperty("detail").GetString());
        Assert.Contains("project: project is required", problem.GetProperty("detail").GetString());
        await using var db = await app.CreateDbContextAsync();
        Assert.False(await db.FindingTickets.AnyAsync());
        Assert.False(await db.FindingEvents.AnyAsync(e => e.Kind == FindingEventKind.TicketCreated));
    }

    [Fact]
    public async Task CreateTicket_Webhook_PostsTheFindingsAndKeepsTheReceiversKey()
    {
        var id = await FindingAsync("198.51.100.33", 2375);
        webhook.AnswerBody = """{"key":"OPS-42","url":"https://tickets.example.test/OPS-42"}""";
        using var client = await ClientAsync("tess", Roles.Analyst);

        var response = await client.PostAsJsonAsync("/api/v1/findings/tickets", new { ids = new[] { id }, system = "webhook" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = JsonDocument.Parse(Assert.Single(webhook.Bodies)).RootElement;
        Assert.Equal("portwatch.ticket", sent.GetProperty("event").GetString());
        Assert.Equal("198.51.100.33", sent.GetProperty("findings")[0].GetProperty("address").GetString());
        Assert.Equal("2375/tcp", sent.GetProperty("findings")[0].GetProperty("endpoint").GetString());
        await using var db = await app.CreateDbContextAsync();
        var ticket = await db.FindingTickets.SingleAsync();
        Assert.Equal(("webhook", "OPS-42", "https://tickets.example.test/OPS-42"), (ticket.System, ticket.Key, ticket.Url));
    }

    [Fact]
    public async Task CreateTicket_BadRequests_AreRefusedWithAReason()
    {
        var id = await FindingAsync("198.51.100.34", 22);
        using var analyst = await ClientAsync("tess", Roles.Analyst);
        using var viewer = await ClientAsync("vic", Roles.Viewer);

        var unknown = await analyst.PostAsJsonAsync("/api/v1/findings/tickets", new { ids = new[] { id }, system = "servicenow" });
        var none = await analyst.PostAsJsonAsync("/api/v1/findings/tickets", new { ids = Array.Empty<long>(), system = "jira" });
        var gone = await analyst.PostAsJsonAsync("/api/v1/findings/tickets", new { ids = new[] { id, 999_999 }, system = "jira" });
        var forbidden = await viewer.PostAsJsonAsync("/api/v1/findings/tickets", new { ids = new[] { id }, system = "jira" });
        var garbage = await analyst.PostAsync("/api/v1/findings/tickets", new StringContent("{\"ids\":", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.Forbidden, HttpStatusCode.BadRequest),
            (unknown.StatusCode, none.StatusCode, gone.StatusCode, forbidden.StatusCode, garbage.StatusCode));
        Assert.Contains("is not jira or webhook", await unknown.Content.ReadAsStringAsync());
        Assert.Empty(jira.Verdicts); // nothing reached Jira
    }

    [Fact]
    public async Task Export_DefectDojo_IsGenericFindingsImportJsonWithOnlyFieldsItAccepts()
    {
        var id = await FindingAsync("198.51.100.35", 6379, "Redis\u001b[2J");
        using var client = await ClientAsync("tess", Roles.Analyst);

        var response = await client.GetAsync("/api/v1/findings/export?format=defectdojo&search=198.51.100.35");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        // DefectDojo's Generic Findings Import refuses a file with a field it does not know, or without title, severity and description.
        string[] allowed = ["title", "severity", "description", "date", "active", "verified", "false_p", "risk_accepted", "static_finding", "dynamic_finding",
            "unique_id_from_tool", "vuln_id_from_tool", "service", "component_name", "component_version", "mitigation", "endpoints", "tags"];
        var finding = Assert.Single(root.GetProperty("findings").EnumerateArray());
        Assert.All(finding.EnumerateObject(), p => Assert.Contains(p.Name, allowed));
        Assert.Equal(("Open port 6379/tcp on 198.51.100.35 (redis)", "High"), (finding.GetProperty("title").GetString(), finding.GetProperty("severity").GetString()));
        Assert.Equal("198.51.100.35:6379/tcp", finding.GetProperty("unique_id_from_tool").GetString());
        Assert.Equal(("198.51.100.35", 6379), (finding.GetProperty("endpoints")[0].GetProperty("host").GetString(), finding.GetProperty("endpoints")[0].GetProperty("port").GetInt32()));
        Assert.DoesNotContain('\u001b', finding.GetProperty("component_name").GetString()!);
        Assert.True(finding.GetProperty("active").GetBoolean());
        Assert.Equal("PortWatch", root.GetProperty("name").GetString());
        Assert.NotEqual(0, id);
    }
}
