using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Api;

/// <summary>A finding's discussion and assignment over the API.</summary>
public sealed class FindingApiTests : IClassFixture<PortWatchAppFactory>
{
    private readonly PortWatchAppFactory app;

    public FindingApiTests(PortWatchAppFactory app) => this.app = app;

    private async Task<HttpClient> ClientAsync(string user, string role)
    {
        var client = app.CreateNonRedirectingClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await app.CreateApiTokenAsync(user, role));
        return client;
    }

    private async Task<long> FindingAsync(string address, int port)
    {
        await using var db = await app.CreateDbContextAsync();
        var finding = new Finding { Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), Port = port, CurrentState = PortState.Open, FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow };
        db.Findings.Add(finding);
        await db.SaveChangesAsync();
        return finding.Id;
    }

    [Fact]
    public async Task Comments_AddedOverTheApi_AreListedInOrderWithAuthors()
    {
        var id = await FindingAsync("192.0.2.60", 5900);
        using var alice = await ClientAsync("api-alice", Roles.Analyst);
        using var bob = await ClientAsync("api-bob", Roles.Analyst);
        using var viewer = await ClientAsync("api-vera", Roles.Viewer);

        Assert.Equal(HttpStatusCode.OK, (await alice.PostAsJsonAsync($"/api/v1/findings/{id}/comments", new { text = "VNC without a password?" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bob.PostAsJsonAsync($"/api/v1/findings/{id}/comments", new { text = "yes <b>really</b>" })).StatusCode);
        var empty = await alice.PostAsJsonAsync($"/api/v1/findings/{id}/comments", new { text = "" });
        var missing = await alice.PostAsJsonAsync("/api/v1/findings/987654/comments", new { text = "hi" });
        var forbidden = await viewer.PostAsJsonAsync($"/api/v1/findings/{id}/comments", new { text = "can I?" });
        var detail = await viewer.GetFromJsonAsync<JsonElement>($"/api/v1/findings/{id}");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.Forbidden), (empty.StatusCode, missing.StatusCode, forbidden.StatusCode));
        Assert.Equal([("api-alice", "VNC without a password?"), ("api-bob", "yes <b>really</b>")],
            detail.GetProperty("comments").EnumerateArray().Select(c => (c.GetProperty("author").GetString(), c.GetProperty("text").GetString())));
        Assert.Equal("yes <b>really</b>", detail.GetProperty("finding").GetProperty("notes").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/v1/findings/987654")).StatusCode);
    }

    [Fact]
    public async Task Assign_OverTheApi_OnlyToUsersAndListedAsMine()
    {
        var id = await FindingAsync("192.0.2.61", 23);
        using var alice = await ClientAsync("api-assigner", Roles.Analyst);
        using var gina = await ClientAsync("api-gina", Roles.Analyst);

        var toNobodyKnown = await alice.PostAsJsonAsync("/api/v1/findings/assign", new { ids = new[] { id }, assignee = "not-a-user" });
        var toGina = await alice.PostAsJsonAsync("/api/v1/findings/assign", new { ids = new[] { id }, assignee = "api-gina", notify = true });
        var mine = await gina.GetFromJsonAsync<JsonElement>("/api/v1/findings?quick=Mine");

        Assert.Equal(HttpStatusCode.BadRequest, toNobodyKnown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, toGina.StatusCode);
        var answer = await toGina.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(answer.GetProperty("mailed").GetBoolean());
        Assert.Contains("no mail server", answer.GetProperty("mailProblem").GetString());
        Assert.Equal([id], mine.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()));
    }
}
