using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Api;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Api;

/// <summary>The REST API through the real host: tokens, roles, problem details, bulk upsert, triage, exports, OpenAPI.</summary>
public sealed class ApiTests : IClassFixture<PortWatchAppFactory>
{
    private readonly PortWatchAppFactory app;

    public ApiTests(PortWatchAppFactory app) => this.app = app;

    private Task<string> TokenAsync(string userName, string role) => app.CreateApiTokenAsync(userName, role);

    private HttpClient Client(string? token)
    {
        var client = app.CreateNonRedirectingClient();
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    [Fact]
    public async Task Api_NoTokenRevokedTokenAndViewerWrite_AreRefused()
    {
        using var anonymous = Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/findings")).StatusCode);

        using var bogus = Client("pw_not-a-real-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await bogus.GetAsync("/api/v1/findings")).StatusCode);

        var viewerToken = await TokenAsync("api-viewer", Roles.Viewer);
        using var viewer = Client(viewerToken);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/findings")).StatusCode);
        var write = await viewer.PostAsJsonAsync("/api/v1/assets/bulk", new[] { new { target = "203.0.113.9" } });
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        var triage = await viewer.PostAsJsonAsync("/api/v1/findings/triage", new { ids = new[] { 1 }, action = "resolve" });
        Assert.Equal(HttpStatusCode.Forbidden, triage.StatusCode);

        // Revoked: the same token stops working at once.
        var analystToken = await TokenAsync("api-analyst-revoked", Roles.Analyst);
        using var analyst = Client(analystToken);
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetAsync("/api/v1/tokens")).StatusCode);
        var id = (await analyst.GetFromJsonAsync<JsonElement>("/api/v1/tokens"))[0].GetProperty("id").GetInt32();
        Assert.Equal(HttpStatusCode.NoContent, (await analyst.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await analyst.GetAsync("/api/v1/findings")).StatusCode);
        await using var db = await app.CreateDbContextAsync();
        Assert.DoesNotContain(await db.ApiTokens.Select(t => t.Hash).ToListAsync(), h => h.Contains(analystToken, StringComparison.Ordinal)); // stored hashed
    }

    [Fact]
    public async Task AssetsBulk_SameInventoryTwice_IsIdempotent()
    {
        using var client = Client(await TokenAsync("api-analyst-assets", Roles.Analyst));
        var inventory = new[]
        {
            new { target = "198.51.100.0/30", name = "edge", owner = "netops", tags = new[] { "edge" }, externalId = "cmdb-1" },
            new { target = "198.51.100.77", name = "vpn", owner = "it", tags = new[] { "vpn" }, externalId = "cmdb-2" },
        };

        var first = await (await client.PostAsJsonAsync("/api/v1/assets/bulk?source=cmdb", inventory)).Content.ReadFromJsonAsync<JsonElement>();
        var second = await (await client.PostAsJsonAsync("/api/v1/assets/bulk?source=cmdb", inventory)).Content.ReadFromJsonAsync<JsonElement>();
        var renamed = inventory.Select(i => i.externalId == "cmdb-2" ? i with { name = "vpn-gw" } : i).ToArray();
        var third = await (await client.PostAsJsonAsync("/api/v1/assets/bulk?source=cmdb", renamed)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal((2, 0, 0), (first.GetProperty("created").GetInt32(), first.GetProperty("updated").GetInt32(), first.GetProperty("unchanged").GetInt32()));
        Assert.Equal((0, 0, 2), (second.GetProperty("created").GetInt32(), second.GetProperty("updated").GetInt32(), second.GetProperty("unchanged").GetInt32()));
        Assert.Equal((0, 1, 1), (third.GetProperty("created").GetInt32(), third.GetProperty("updated").GetInt32(), third.GetProperty("unchanged").GetInt32()));
        await using var db = await app.CreateDbContextAsync();
        Assert.Equal("vpn-gw", (await db.Assets.SingleAsync(a => a.ExternalId == "cmdb-2")).Name);
    }

    [Fact]
    public async Task Api_BadPayloads_AnswerProblemDetailsNamingTheField()
    {
        using var client = Client(await TokenAsync("api-analyst-bad", Roles.Analyst));

        var badAsset = await client.PostAsJsonAsync("/api/v1/assets/bulk", new[] { new { target = "10.0.0.0/33" } });
        var badException = await client.PostAsJsonAsync("/api/v1/exceptions", new { scopeKind = "Cidr", scopeValue = "nonsense", portFrom = 80, portTo = 70, reason = "" });
        var badRun = await client.PostAsJsonAsync("/api/v1/runs", new { targets = "300.1.2.3", profileId = 1 });
        var badJson = await client.PostAsync("/api/v1/assets/bulk", new StringContent("{not json", Encoding.UTF8, "application/json"));
        var badFormat = await client.GetAsync("/api/v1/findings/export?format=xlsx");

        foreach (var response in new[] { badAsset, badException, badRun, badJson, badFormat })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var problem = await badException.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("is not a CIDR block", problem.GetProperty("errors").GetProperty("ScopeValue")[0].GetString());
        Assert.Contains("ends before it starts", problem.GetProperty("errors").GetProperty("PortTo")[0].GetString());
        Assert.Contains("prefix length", (await badAsset.Content.ReadAsStringAsync()));
        await using var db = await app.CreateDbContextAsync();
        Assert.False(await db.ExceptionRules.AnyAsync());
    }

    [Fact]
    public async Task FindingsTriage_AnalystToken_MarksAbnormalAndIsAudited()
    {
        long id;
        await using (var db = await app.CreateDbContextAsync())
        {
            var finding = new Finding { Address = "192.0.2.44", AddressKey = IpKey.From(IPAddress.Parse("192.0.2.44")), Port = 3389, CurrentState = PortState.Open, FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow };
            db.Findings.Add(finding);
            await db.SaveChangesAsync();
            id = finding.Id;
        }
        using var client = Client(await TokenAsync("api-analyst-triage", Roles.Analyst));
        await app.CreateUserAsync("soc", Roles.Analyst);

        var response = await client.PostAsJsonAsync("/api/v1/findings/triage", new { ids = new[] { id }, action = "abnormal", severity = "Critical", assignee = "soc" });
        var listed = await client.GetFromJsonAsync<JsonElement>("/api/v1/findings?quick=Abnormal&search=192.0.2.44");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var item = Assert.Single(listed.GetProperty("items").EnumerateArray());
        Assert.Equal(("Abnormal", "Critical", "soc"), (item.GetProperty("status").GetString(), item.GetProperty("severity").GetString(), item.GetProperty("assignee").GetString()));
        await using var check = await app.CreateDbContextAsync();
        Assert.True(await check.AuditEntries.AnyAsync(a => a.Action == "finding.mark-abnormal" && a.User == "api-analyst-triage" && a.EntityId == id.ToString()));
    }

    [Fact]
    public async Task FindingsExportCsv_FormulaInBanner_IsNeutralised()
    {
        await using (var db = await app.CreateDbContextAsync())
        {
            db.Findings.Add(new Finding
            {
                Address = "192.0.2.45", AddressKey = IpKey.From(IPAddress.Parse("192.0.2.45")), Port = 8080, CurrentState = PortState.Open,
                ServiceName = "http", Product = "=HYPERLINK(\"http://evil.example\",\"x\")", Version = "@SUM(1+1)", Notes = "+cmd", FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }
        using var client = Client(await TokenAsync("api-viewer-export", Roles.Viewer));

        var csv = await client.GetStringAsync("/api/v1/findings/export?format=csv&search=192.0.2.45");

        var line = Assert.Single(csv.Split("\r\n"), l => l.StartsWith("192.0.2.45,", StringComparison.Ordinal));
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",", line, StringComparison.Ordinal);
        Assert.Contains(",'@SUM(1+1),", line, StringComparison.Ordinal);
        Assert.EndsWith(",'+cmd", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheApi()
    {
        using var client = Client(await TokenAsync("api-viewer-doc", Roles.Viewer));

        var document = await client.GetStringAsync("/openapi/v1.json");
        var ui = await client.GetAsync("/api/docs/index.html");

        Assert.Contains("\"/api/v1/findings\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/v1/imports\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/v1/assets/bulk\"", document, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
    }

    [Fact]
    public async Task Runs_StartStatusChangesAndCancel_WorkThroughTheApi()
    {
        using var listener = new LoopbackListener();
        int profileId;
        await using (var db = await app.CreateDbContextAsync())
        {
            var profile = new ScanProfile { Name = "api-run", TcpPorts = $"{listener.Port}", Engine = ScanEngineKind.Connect, RatePps = 1000, Retries = 0, TimeoutMs = 300, ServiceDetection = false };
            db.ScanProfiles.Add(profile);
            await db.SaveChangesAsync();
            profileId = profile.Id;
        }
        using var client = Client(await TokenAsync("api-analyst-runs", Roles.Analyst));

        var started = await client.PostAsJsonAsync("/api/v1/runs", new { targets = "127.0.0.1", profileId });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var status = await Eventually.WaitAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}"),
            s => s.GetProperty("run").GetProperty("status").GetString() is "Completed" or "Failed", TimeSpan.FromSeconds(30));
        var changes = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/changes");
        var cancelFinished = await client.PostAsync($"/api/v1/runs/{id}/cancel", null);

        Assert.Equal(("Completed", "Api", 1), (status.GetProperty("run").GetProperty("status").GetString(), status.GetProperty("run").GetProperty("trigger").GetString(),
            status.GetProperty("run").GetProperty("openCount").GetInt32()));
        Assert.Equal("Complete", status.GetProperty("coverage")[0].GetProperty("status").GetString());
        Assert.Contains(changes.EnumerateArray(), c => c.GetProperty("change").GetString() == "New" && c.GetProperty("port").GetInt32() == listener.Port);
        Assert.Equal(HttpStatusCode.Conflict, cancelFinished.StatusCode);
        await using var check = await app.CreateDbContextAsync();
        Assert.True(await check.AuditEntries.AnyAsync(a => a.Action == "run.start" && a.User == "api-analyst-runs"));
    }
}
