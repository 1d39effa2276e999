using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Alerts;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;
using PortWatch.Web.Inventory.Sources;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Tests.Inventory;

/// <summary>A resolver reading a hosts file the test writes: the "local resolver" of the DNS source tests.</summary>
public sealed class HostsFileResolver(string path) : IHostResolver
{
    public Task<IPAddress[]> ResolveAsync(string name, CancellationToken cancellationToken)
    {
        var found = File.ReadAllLines(path).Select(l => l.Split('#')[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length >= 2 && p.Skip(1).Contains(name, StringComparer.OrdinalIgnoreCase))
            .Select(p => IPAddress.Parse(p[0])).ToArray();
        return found.Length == 0 ? throw new SocketException((int)SocketError.HostNotFound) : Task.FromResult(found);
    }
}

/// <summary>Asset sources through the real host and API: HTTP inventories, DNS names and AWS through its SDK, each against a local stand-in.</summary>
public sealed class AssetSourceTests : IAsyncLifetime
{
    private readonly InventoryServer cmdb = new();
    private readonly Ec2StandIn ec2 = new();
    private readonly string hosts = Path.Combine(Path.GetTempPath(), $"portwatch-hosts-{Guid.NewGuid():N}");
    private PortWatchAppFactory app = null!;
    private HttpClient admin = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(hosts, "198.51.100.50 shop.example.test\n198.51.100.51 api.example.test\n");
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Scanning:AllowedScope:0"] = "198.51.100.0/24",
            ["Scanning:AllowedScope:1"] = "203.0.113.0/24",
            ["Scanning:AllowedScope:2"] = "2001:db8::/32",
        });
        app.TestServices = services => services.AddSingleton<IHostResolver>(new HostsFileResolver(hosts));
        admin = await app.CreateTokenClientAsync("src-admin", Roles.Admin);
    }

    public async Task DisposeAsync()
    {
        admin.Dispose();
        await app.DisposeAsync();
        cmdb.Dispose();
        ec2.Dispose();
        File.Delete(hosts);
    }

    private async Task<int> CreateAsync(object body)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/asset-sources", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    private async Task<JsonElement> SyncAsync(int id)
    {
        var response = await admin.PostAsync($"/api/v1/asset-sources/{id}/sync", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static (int Added, int Updated, int Retired, int Unretired, bool Held, string Status) Counts(JsonElement r) =>
        (r.GetProperty("added").GetInt32(), r.GetProperty("updated").GetInt32(), r.GetProperty("retired").GetInt32(), r.GetProperty("unretired").GetInt32(),
         r.GetProperty("held").GetBoolean(), r.GetProperty("status").GetString()!);

    private async Task<List<Asset>> AssetsAsync()
    {
        await using var db = await app.CreateDbContextAsync();
        return await db.Assets.AsNoTracking().OrderBy(a => a.RangeStart).ToListAsync();
    }

    private object HttpSource(string name, string format = "json", string? header = null, double? share = null) => new
    {
        name, kind = "http", schedule = "0 0 * ? * *", maxRetireShare = share,
        settings = new
        {
            url = cmdb.Url, format, header, items = format == "json" ? "data.assets" : "",
            mapping = new { address = format == "json" ? "net.ip" : "ip", name = "hostname", owner = "team", environment = "env", tags = "labels", id = "id" },
        },
    };

    private static string Inventory(params object[] items) => JsonSerializer.Serialize(new { data = new { assets = items } });

    [Fact]
    public async Task HttpJson_FirstSync_AddsMappedAssetsAndRejectsEachBadEntryWithItsReason()
    {
        cmdb.Body = Inventory(
            new { id = "a1", hostname = "shop", net = new { ip = "198.51.100.20" }, team = "storefront", env = "prod", labels = new[] { "pci", "edge" } },
            new { id = "a2", hostname = "lb-pool", net = new { ip = "203.0.113.0/29" }, team = "platform", labels = "web;lb" },
            new { id = "a3", hostname = "nowhere", net = new { ip = "192.0.2.9" }, team = "x" },
            new { id = "a4", hostname = "typo", net = new { ip = "198.51.100.300" } },
            new { id = "a5", hostname = "no address" },
            new { id = "a6", hostname = "shop again", net = new { ip = "198.51.100.20" } });
        var id = await CreateAsync(HttpSource("cmdb"));

        var report = await SyncAsync(id);

        Assert.Equal((2, 0, 0, 0, false, "applied"), Counts(report));
        var reasons = report.GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("reason").GetString()!).ToList();
        Assert.Equal(4, reasons.Count);
        Assert.Contains(reasons, r => r.StartsWith("outside the allowed scope", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.StartsWith("malformed", StringComparison.Ordinal) && r.Contains("198.51.100.300", StringComparison.Ordinal) is var _);
        Assert.Contains(reasons, r => r == "malformed: no address in the mapped field");
        Assert.Contains(reasons, r => r.StartsWith("duplicate", StringComparison.Ordinal));
        var assets = await AssetsAsync();
        var shop = Assert.Single(assets, a => a.Target == "198.51.100.20");
        Assert.Equal(("shop", "storefront", "prod", "source:cmdb"), (shop.Name, shop.Owner, shop.Environment, shop.SourceOfRecord));
        Assert.Equal(["pci", "edge"], shop.Tags);
        Assert.Equal(["web", "lb"], Assert.Single(assets, a => a.Target == "203.0.113.0/29").Tags);
        // An entry outside the scope never becomes an asset, so no scan ever gets it.
        Assert.DoesNotContain(assets, a => a.Target == "192.0.2.9");
        await using var db = await app.CreateDbContextAsync();
        var schedule = new Schedule { Name = "all", CronExpression = "0 0 * ? * *", AssetSelection = ScheduleAssetSelection.All };
        Assert.DoesNotContain("192.0.2.9", (await ScheduledScanJob.RequestForAsync(db, schedule, "t", CancellationToken.None)).Targets);
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "asset-source.sync" && a.User == "src-admin"));
    }

    [Fact]
    public async Task HttpJson_LaterSyncs_UpdateHoldALargeRetirementUntilConfirmedAndBringAssetsBack()
    {
        object Item(string ip, string team) => new { id = ip, hostname = ip, net = new { ip }, team };
        cmdb.Body = Inventory(Item("198.51.100.30", "a"), Item("198.51.100.31", "a"), Item("198.51.100.32", "a"), Item("198.51.100.33", "a"));
        var id = await CreateAsync(HttpSource("cmdb-hold"));
        await SyncAsync(id);
        var handMade = await app.CreateDbContextAsync();
        // A hand-made asset the source also lists: the source never retires it.
        await using (var db = await app.CreateDbContextAsync())
        {
            var asset = await db.Assets.SingleAsync(a => a.Target == "198.51.100.33");
            asset.SourceOfRecord = "manual";
            await db.SaveChangesAsync();
        }
        await handMade.DisposeAsync();

        // One of four gone (25 % > 20 %) and one owner changed: held, nothing changes.
        cmdb.Body = Inventory(Item("198.51.100.30", "b"), Item("198.51.100.31", "a"), Item("198.51.100.33", "a"));
        var held = await SyncAsync(id);
        Assert.Equal((0, 1, 1, 0, true, "held"), Counts(held));
        Assert.Contains("nothing was changed until an admin confirms", held.GetProperty("error").GetString());
        Assert.Equal(["198.51.100.32"], held.GetProperty("retiredTargets").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("a", (await AssetsAsync()).Single(a => a.Target == "198.51.100.30").Owner);
        Assert.True((await AssetsAsync()).Single(a => a.Target == "198.51.100.32").Enabled);

        var confirm = await admin.PostAsync($"/api/v1/asset-sources/{id}/syncs/{held.GetProperty("id").GetInt64()}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal((0, 1, 1, 0, false, "confirmed"), Counts(await confirm.Content.ReadFromJsonAsync<JsonElement>()));
        var after = await AssetsAsync();
        Assert.Equal("b", after.Single(a => a.Target == "198.51.100.30").Owner);
        var retired = after.Single(a => a.Target == "198.51.100.32");
        Assert.False(retired.Enabled);
        Assert.NotNull(retired.RetiredAt);
        var again = await admin.PostAsync($"/api/v1/asset-sources/{id}/syncs/{held.GetProperty("id").GetInt64()}/confirm", null);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);

        // The hand-made asset dropped from the source stays; the retired one comes back.
        cmdb.Body = Inventory(Item("198.51.100.30", "b"), Item("198.51.100.31", "a"), Item("198.51.100.32", "a"));
        var back = await SyncAsync(id);
        Assert.Equal((0, 0, 0, 1, false, "applied"), Counts(back));
        after = await AssetsAsync();
        Assert.True(after.Single(a => a.Target == "198.51.100.32").Enabled);
        Assert.Null(after.Single(a => a.Target == "198.51.100.32").RetiredAt);
        Assert.True(after.Single(a => a.Target == "198.51.100.33").Enabled);
    }

    [Fact]
    public async Task HttpCsv_ColumnsMapped_AddsTheRows()
    {
        cmdb.ContentType = "text/csv";
        cmdb.Body = "id,ip,hostname,team,env,labels\nc1,198.51.100.40,\"mail, edge\",messaging,prod,smtp;edge\nc2,198.51.100.41,vpn,netops,,\n";
        var id = await CreateAsync(HttpSource("cmdb-csv", format: "csv"));

        var report = await SyncAsync(id);

        Assert.Equal((2, 0, 0, 0, false, "applied"), Counts(report));
        var mail = (await AssetsAsync()).Single(a => a.Target == "198.51.100.40");
        Assert.Equal(("mail, edge", "messaging", "prod"), (mail.Name, mail.Owner, mail.Environment));
        Assert.Equal(["smtp", "edge"], mail.Tags);
    }

    [Fact]
    public async Task Http_FailingEmptyOrMalformedAnswer_ChangesNothingAndSaysWhy()
    {
        cmdb.Body = Inventory(new { id = "f1", hostname = "kept", net = new { ip = "198.51.100.45" } });
        var id = await CreateAsync(HttpSource("cmdb-fail", share: 1));
        await SyncAsync(id);

        cmdb.Status = HttpStatusCode.ServiceUnavailable;
        var unavailable = await SyncAsync(id);
        cmdb.Status = HttpStatusCode.OK;
        cmdb.Body = Inventory();
        var empty = await SyncAsync(id);
        cmdb.Body = "<html>login</html>";
        var garbage = await SyncAsync(id);
        cmdb.Body = """{"data": {"items": []}}""";
        var wrongPath = await SyncAsync(id);

        Assert.Equal(("failed", "failed", "failed", "failed"),
            (unavailable.GetProperty("status").GetString(), empty.GetProperty("status").GetString(), garbage.GetProperty("status").GetString(), wrongPath.GetProperty("status").GetString()));
        Assert.Contains("answered 503", unavailable.GetProperty("error").GetString());
        Assert.Contains("empty list", empty.GetProperty("error").GetString());
        Assert.Contains("not JSON", garbage.GetProperty("error").GetString());
        Assert.Contains("no array at 'data.assets'", wrongPath.GetProperty("error").GetString());
        var kept = (await AssetsAsync()).Single(a => a.Target == "198.51.100.45");
        Assert.True(kept.Enabled);
        Assert.Null(kept.RetiredAt);
    }

    [Fact]
    public async Task Http_Header_IsSentAndNeverShownAgain()
    {
        cmdb.RequiredHeader = "X-Api-Key: s3cret-key";
        cmdb.Body = Inventory(new { id = "h1", hostname = "with key", net = new { ip = "198.51.100.46" } });
        var id = await CreateAsync(HttpSource("cmdb-key", header: "X-Api-Key: s3cret-key"));

        var report = await SyncAsync(id);
        var listed = await admin.GetStringAsync("/api/v1/asset-sources");
        // A change that leaves the header out keeps it; an empty one clears it, and the CMDB refuses.
        var keep = await admin.PutAsJsonAsync($"/api/v1/asset-sources/{id}", HttpSource("cmdb-key"));
        var second = await SyncAsync(id);
        var clear = await admin.PutAsJsonAsync($"/api/v1/asset-sources/{id}", HttpSource("cmdb-key", header: ""));
        var third = await SyncAsync(id);

        Assert.Equal("applied", report.GetProperty("status").GetString());
        Assert.Equal("s3cret-key", cmdb.SeenHeaders.First());
        Assert.DoesNotContain("s3cret", listed, StringComparison.Ordinal);
        Assert.Contains("\"secretsSet\":[\"header\"]", listed, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, "applied"), (keep.StatusCode, second.GetProperty("status").GetString()));
        Assert.Equal((HttpStatusCode.OK, "failed"), (clear.StatusCode, third.GetProperty("status").GetString()));
        Assert.Contains("answered 401", third.GetProperty("error").GetString());
        await using var db = await app.CreateDbContextAsync();
        Assert.DoesNotContain("s3cret", string.Join(" ", await db.AssetSources.Select(s => s.Settings + s.ProtectedSecrets).ToListAsync()), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", string.Join(" ", await db.AuditEntries.Select(a => a.Before + a.After).ToListAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_BadSources_AreRefusedWithTheField()
    {
        var noUrl = await admin.PostAsJsonAsync("/api/v1/asset-sources", new { name = "x", kind = "http", settings = new { format = "xml", mapping = new { address = "" } } });
        var badKind = await admin.PostAsJsonAsync("/api/v1/asset-sources", new { name = "y", kind = "ldap", settings = new { } });
        var badCron = await admin.PostAsJsonAsync("/api/v1/asset-sources", new { name = "z", kind = "dns", schedule = "* * * * * ?", settings = new { names = new[] { "a.example.test" } } });
        var badName = await admin.PostAsJsonAsync("/api/v1/asset-sources", new { name = "w", kind = "dns", settings = new { names = new[] { "not a name!" } } });
        using var analyst = await app.CreateTokenClientAsync("src-analyst", Roles.Analyst);
        var forbidden = await analyst.GetAsync("/api/v1/asset-sources");

        var text = await noUrl.Content.ReadAsStringAsync();
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.Forbidden),
            (noUrl.StatusCode, badKind.StatusCode, badCron.StatusCode, badName.StatusCode, forbidden.StatusCode));
        Assert.Contains("settings.url", text);
        Assert.Contains("settings.format", text);
        Assert.Contains("settings.mapping.address", text);
        Assert.Contains("at most once a minute", await badCron.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Dns_NameThatMoves_IsFollowedAndAGoneNameIsReported()
    {
        var id = await CreateAsync(new { name = "dns", kind = "dns", maxRetireShare = 1.0, settings = new { names = new[] { "shop.example.test", "api.example.test", "gone.example.test" } } });

        var first = await SyncAsync(id);
        await File.WriteAllTextAsync(hosts, "198.51.100.52 shop.example.test\n198.51.100.51 api.example.test\n");
        var moved = await SyncAsync(id);

        Assert.Equal((2, 0, 0, 0, false, "applied"), Counts(first));
        Assert.Equal("gone.example.test", Assert.Single(first.GetProperty("rejected").EnumerateArray()).GetProperty("entry").GetString());
        Assert.Contains("does not resolve", first.GetProperty("rejected")[0].GetProperty("reason").GetString());
        Assert.Equal((1, 0, 1, 0, false, "applied"), Counts(moved));
        var assets = await AssetsAsync();
        Assert.True(assets.Single(a => a.Target == "198.51.100.52").Enabled);
        Assert.Equal("shop.example.test", assets.Single(a => a.Target == "198.51.100.52").Name);
        Assert.NotNull(assets.Single(a => a.Target == "198.51.100.50").RetiredAt);
    }

    [Fact]
    public async Task Dns_SystemResolver_ResolvesTheHostsFilesLocalhost()
    {
        await using var plain = PortWatchAppFactory.Create();
        using var client = await plain.CreateTokenClientAsync("dns-admin", Roles.Admin);
        var created = await client.PostAsJsonAsync("/api/v1/asset-sources", new { name = "local", kind = "dns", settings = new { names = new[] { "localhost" } } });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

        var report = await (await client.PostAsync($"/api/v1/asset-sources/{id}/sync", null)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("applied", report.GetProperty("status").GetString());
        await using var db = await plain.CreateDbContextAsync();
        Assert.Contains("127.0.0.1", await db.Assets.Select(a => a.Target).ToListAsync());
    }

    private object AwsSource(string name, string? secret = "aws-secret") => new
    {
        name, kind = "aws", maxRetireShare = 1.0,
        settings = new { regions = new[] { "eu-central-1" }, accessKeyId = Ec2StandIn.AccessKey, secretAccessKey = secret, serviceUrl = ec2.Url },
    };

    [Fact]
    public async Task Aws_ThroughTheSdk_ReadsElasticIpsInstancesAndInterfacesWithTagsOwnersAndPages()
    {
        var id = await CreateAsync(AwsSource("aws"));

        var report = await SyncAsync(id);

        Assert.Equal((5, 0, 0, 0, false, "applied"), Counts(report));
        Assert.Equal(["DescribeAddresses", "DescribeInstances", "DescribeInstances NextToken=page-2", "DescribeNetworkInterfaces"], ec2.Calls);
        var assets = (await AssetsAsync()).ToDictionary(a => a.Target);
        Assert.Equal(("payments-nat", "payments"), (assets["198.51.100.10"].Name, assets["198.51.100.10"].Owner));
        // The Elastic IP of an instance takes the instance's tags.
        Assert.Equal(("web-1", "storefront", "prod"), (assets["198.51.100.11"].Name, assets["198.51.100.11"].Owner, assets["198.51.100.11"].Environment));
        Assert.Contains("team=web", assets["198.51.100.11"].Tags);
        Assert.Contains("aws:eu-central-1", assets["198.51.100.11"].Tags);
        Assert.Equal("storefront", assets["198.51.100.12"].Owner);
        Assert.StartsWith("ELB app/storefront", assets["198.51.100.12"].Name, StringComparison.Ordinal);
        Assert.Equal(("api-2", "payments"), (assets["198.51.100.13"].Name, assets["198.51.100.13"].Owner));
        Assert.Equal("api-2", assets["2001:db8::13"].Name);
    }

    [Fact]
    public async Task Aws_ExpiredCredentials_SaysSoAndChangesNothing()
    {
        var id = await CreateAsync(AwsSource("aws-expired"));
        await SyncAsync(id);
        ec2.Expired = true;

        var report = await SyncAsync(id);

        Assert.Equal("failed", report.GetProperty("status").GetString());
        Assert.Contains("expired", report.GetProperty("error").GetString());
        Assert.Contains("RequestExpired", report.GetProperty("error").GetString());
        Assert.All((await AssetsAsync()).Where(a => a.SourceOfRecord == "source:aws-expired"), a => Assert.Null(a.RetiredAt));
    }

    [Fact]
    public async Task RetiredAsset_ItsFindingsAreFlaggedNotClosedAndComeBackWithIt()
    {
        cmdb.Body = Inventory(new { id = "r1", hostname = "old box", net = new { ip = "198.51.100.60" } });
        var id = await CreateAsync(HttpSource("cmdb-retire", share: 1));
        await SyncAsync(id);
        long findingId;
        await using (var db = await app.CreateDbContextAsync())
        {
            var finding = new Finding
            {
                Address = "198.51.100.60", AddressKey = IpKey.From(IPAddress.Parse("198.51.100.60")), Port = 6379, CurrentState = PortState.Open, Severity = Severity.Critical,
                FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow,
            };
            db.Findings.Add(finding);
            await db.SaveChangesAsync();
            findingId = finding.Id;
        }

        cmdb.Body = Inventory(new { id = "r2", hostname = "new box", net = new { ip = "198.51.100.61" } });
        await SyncAsync(id);
        Finding retired;
        await using (var db = await app.CreateDbContextAsync())
            retired = await db.Findings.AsNoTracking().SingleAsync(f => f.Id == findingId);
        cmdb.Body = Inventory(new { id = "r1", hostname = "old box", net = new { ip = "198.51.100.60" } }, new { id = "r2", hostname = "new box", net = new { ip = "198.51.100.61" } });
        await SyncAsync(id);

        Assert.True(retired.Flags.HasFlag(FindingFlags.AssetRetired));
        Assert.Equal(PortState.Open, retired.CurrentState);
        await using var check = await app.CreateDbContextAsync();
        Assert.False((await check.Findings.SingleAsync(f => f.Id == findingId)).Flags.HasFlag(FindingFlags.AssetRetired));
        var events = await check.FindingEvents.Where(e => e.FindingId == findingId).Select(e => e.Kind).ToListAsync();
        Assert.Equal([FindingEventKind.AssetRetired, FindingEventKind.AssetUnretired], events);
        Assert.DoesNotContain(events, e => e == FindingEventKind.Closed);
    }

    [Fact]
    public async Task AlertChannels_Api_IsAdminOnlyKeepsTheTargetSecretAndStoresTheRouting()
    {
        var created = await admin.PostAsJsonAsync("/api/v1/alert-channels",
            new { name = "payments team", kind = "Webhook", target = "https://hooks.example.test/T123/secret-path", minimumSeverity = "Medium", owner = "payments", tag = "pci" });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetInt32();
        var renamed = await admin.PutAsJsonAsync($"/api/v1/alert-channels/{id}", new { name = "payments (pci)" });
        var listed = await admin.GetStringAsync("/api/v1/alert-channels");
        using var analyst = await app.CreateTokenClientAsync("chan-analyst", Roles.Analyst);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.DoesNotContain("secret-path", listed, StringComparison.Ordinal);
        Assert.Contains("\"owner\":\"payments\"", listed, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.GetAsync("/api/v1/alert-channels")).StatusCode);
        await using var db = await app.CreateDbContextAsync();
        var stored = await db.AlertChannels.SingleAsync(c => c.Id == id);
        Assert.Equal(("payments (pci)", "https://hooks.example.test/T123/secret-path", "payments", "pci"), (stored.Name, stored.Target, stored.OwnerFilter, stored.TagFilter));
    }

    [Fact]
    public void Routes_OwnerAndTag_OnlyTheirAssetsFindings()
    {
        var payments = new AlertChannel { Name = "p", Target = "x", OwnerFilter = "Payments" };
        var pci = new AlertChannel { Name = "t", Target = "x", TagFilter = "pci" };
        var all = new AlertChannel { Name = "a", Target = "x" };
        var theirs = new Asset { Name = "", Target = "", RangeStart = "", RangeEnd = "", Owner = "payments", Tags = ["PCI"] };
        var others = new Asset { Name = "", Target = "", RangeStart = "", RangeEnd = "", Owner = "storefront" };

        Assert.Equal((true, false, false), (AlertChannelRules.Routes(payments, theirs), AlertChannelRules.Routes(payments, others), AlertChannelRules.Routes(payments, null)));
        Assert.Equal((true, false), (AlertChannelRules.Routes(pci, theirs), AlertChannelRules.Routes(pci, others)));
        Assert.True(AlertChannelRules.Routes(all, null));
    }
}
