using System.Net.Http.Headers;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Cli.Server;
using PortWatch.Tests.Shared;
using PortWatch.Web.Api;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Api;

/// <summary>`portwatch import` and `portwatch export` against the real server (in memory).</summary>
public sealed class CliClientTests : IClassFixture<PortWatchAppFactory>
{
    private readonly PortWatchAppFactory app;

    public CliClientTests(PortWatchAppFactory app) => this.app = app;

    private async Task<HttpClient> ClientAsync(string userName, string role)
    {
        var token = await app.CreateApiTokenAsync(userName, role);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    [Fact]
    public async Task ImportThenExport_MasscanList_RoundTripsThroughTheServer()
    {
        using var client = await ClientAsync("cli-analyst", Roles.Analyst);
        var file = Path.Combine(Path.GetTempPath(), $"masscan-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, "#masscan\nopen tcp 5900 192.0.2.80 1700000000\nopen tcp 80 192.0.2.80 1700000000\n");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var imported = await ServerCommands.ImportAsync([file, "--format", "masscan-list"], stdout, stderr, CancellationToken.None, client);
        var exportOut = new StringWriter();
        var exported = await ServerCommands.ExportAsync(["--format", "csv", "--search", "192.0.2.80"], exportOut, stderr, CancellationToken.None, client);

        Assert.Equal((0, 0), (imported, exported));
        Assert.Matches(@"imported .* as run \d+: 1 host\(s\), 2 open port\(s\)", stdout.ToString());
        var lines = exportOut.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("address,port,protocol", lines[0], StringComparison.Ordinal);
        Assert.Equal(2, lines.Count(l => l.StartsWith("192.0.2.80,", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("192.0.2.80,5900,tcp,", StringComparison.Ordinal) && l.Contains(",High,", StringComparison.Ordinal));
        File.Delete(file);
    }

    [Fact]
    public async Task Import_ViewerTokenOrBadFile_SaysWhyAndFails()
    {
        using var viewer = await ClientAsync("cli-viewer", Roles.Viewer);
        using var analyst = await ClientAsync("cli-analyst-2", Roles.Analyst);
        var file = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.xml");
        await File.WriteAllTextAsync(file, "<?xml version=\"1.0\"?><nmaprun start=\"1\"><host>");
        var refused = new StringWriter();
        var broken = new StringWriter();

        var asViewer = await ServerCommands.ImportAsync([file], new StringWriter(), refused, CancellationToken.None, viewer);
        var badFile = await ServerCommands.ImportAsync([file], new StringWriter(), broken, CancellationToken.None, analyst);

        Assert.Equal((1, 1), (asViewer, badFile));
        Assert.Contains("may not do this", refused.ToString());
        Assert.Contains("not well-formed or complete", broken.ToString());
        File.Delete(file);
    }
}
