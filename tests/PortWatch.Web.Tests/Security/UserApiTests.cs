using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PortWatch.Tests.Shared;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Security;

/// <summary>Provisioning over the API: an identity provider creates, demotes, locks and removes analysts, each call audited.</summary>
public sealed class UserApiTests : IDisposable
{
    private readonly PortWatchAppFactory app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Sessions:RevalidationSeconds"] = "1" });

    public void Dispose() => app.Dispose();

    private Task<HttpClient> AdminAsync() => app.CreateTokenClientAsync("provisioner", Roles.Admin);

    [Fact]
    public async Task Users_CreateDemoteLockDelete_EachTakesEffectOnTheUsersSessionAndIsAudited()
    {
        using var admin = await AdminAsync();

        using var created = await admin.PostAsJsonAsync("/api/v1/users", new { userName = "carol", email = "carol@example.test", password = "Carol-Password-1", roles = new[] { "Analyst" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var carol = await app.CreateSignedInClientAsync("carol", "Carol-Password-1");
        using (var write = await carol.SendAsync(DashboardRequests.ProfileChange()))
            Assert.Equal(HttpStatusCode.Created, write.StatusCode);

        using var demoted = await admin.PutAsJsonAsync("/api/v1/users/carol", new { roles = new[] { "Viewer" } });
        Assert.Equal(HttpStatusCode.OK, demoted.StatusCode);
        Assert.Equal("Viewer", (await demoted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("roles")[0].GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, await Eventually.WaitAsync(async () => { using var r = await carol.SendAsync(DashboardRequests.ProfileChange()); return r.StatusCode; }, s => s != HttpStatusCode.Created));
        using var viewer = await app.CreateSignedInClientAsync("carol", "Carol-Password-1");
        using (var write = await viewer.SendAsync(DashboardRequests.ProfileChange()))
            Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);

        using var locked = await admin.PutAsJsonAsync("/api/v1/users/carol", new { locked = true });
        Assert.True((await locked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("locked").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, await Eventually.WaitAsync(async () => { using var r = await viewer.GetAsync("/api/v1/findings"); return r.StatusCode; }, s => s == HttpStatusCode.Unauthorized));

        using var deleted = await admin.DeleteAsync("/api/v1/users/carol");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        Assert.DoesNotContain(list.EnumerateArray(), u => u.GetProperty("userName").GetString() == "carol");

        await using var db = await app.CreateDbContextAsync();
        var actions = await db.AuditEntries.Where(e => e.EntityType == "User" && e.EntityId == "carol").OrderBy(e => e.Id).Select(e => e.Action).ToListAsync();
        Assert.Equal(["user.create", "user.role", "user.lock", "user.delete"], actions);
    }

    [Fact]
    public async Task Users_BadRequests_AreClear4xx()
    {
        using var admin = await AdminAsync();

        using var weak = await admin.PostAsJsonAsync("/api/v1/users", new { userName = "dave", password = "short", roles = new[] { "Analyst" } });
        using var badRole = await admin.PostAsJsonAsync("/api/v1/users", new { userName = "erin", password = "Erin-Password-1", roles = new[] { "Root" } });
        using var noRole = await admin.PostAsJsonAsync("/api/v1/users", new { userName = "frank", password = "Frank-Password-1", roles = Array.Empty<string>() });
        using var missing = await admin.PutAsJsonAsync("/api/v1/users/nobody", new { locked = true });
        using var lastAdmin = await admin.PutAsJsonAsync("/api/v1/users/admin", new { roles = new[] { "Viewer" } });
        using var nothing = await admin.PutAsJsonAsync("/api/v1/users/admin", new { });

        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("Passwords must be at least 10 characters", await weak.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badRole.StatusCode);
        Assert.Contains("unknown role 'Root'", await badRole.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noRole.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        // "provisioner" is an Admin too, so admin may lose the role; the last one may not.
        Assert.Equal(HttpStatusCode.OK, lastAdmin.StatusCode);
        using var provisionerToo = await admin.PutAsJsonAsync("/api/v1/users/provisioner", new { roles = new[] { "Viewer" } });
        Assert.Equal(HttpStatusCode.BadRequest, provisionerToo.StatusCode);
        Assert.Contains("last administrator", await provisionerToo.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, nothing.StatusCode);
    }
}
