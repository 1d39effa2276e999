using PortWatch.Web.Common;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;
using static PortWatch.Web.Tests.Triage.TriageHarness;

namespace PortWatch.Web.Tests.Triage;

/// <summary>The whitelist: scope, fingerprint binding, expiry, one-step creation, and the audit trail.</summary>
public sealed class ExceptionTests : IAsyncLifetime
{
    private const string Web1 = "198.51.100.10";
    private const string Web2 = "198.51.100.20";
    private const string Elsewhere = "192.0.2.50";
    private TriageHarness harness = null!;

    public async Task InitializeAsync()
    {
        harness = await TriageHarness.CreateAsync();
        await using var db = harness.CreateDbContext();
        var asset = new Asset { Name = "web-2", Target = "", RangeStart = "", RangeEnd = "", Tags = ["edge", "web"], CreatedAt = harness.Clock.UtcNow, UpdatedAt = harness.Clock.UtcNow };
        asset.SetRange(Scanning.Targets.IpRange.Parse(Web2));
        db.Assets.Add(asset);
        await db.SaveChangesAsync();
        await harness.RunAsync([new Open(Web1, 22, "ssh", "OpenSSH"), new Open(Web1, 443, "https", "nginx"), new Open(Web2, 22, "ssh", "OpenSSH"), new Open(Elsewhere, 22, "ssh", "OpenSSH")],
            new Dictionary<string, TargetCoverageStatus> { [Web1] = TargetCoverageStatus.Complete, [Web2] = TargetCoverageStatus.Complete, [Elsewhere] = TargetCoverageStatus.Complete });
    }

    public async Task DisposeAsync() => await harness.DisposeAsync();

    private static ExceptionRuleInput Ssh(ExceptionScopeKind kind, string? value) => new()
    {
        ScopeKind = kind, ScopeValue = value, PortFrom = 22, PortTo = 22, Protocol = TransportProtocol.Tcp, Reason = "bastion hosts", Approver = "ciso",
    };

    [Fact]
    public async Task Create_CidrScope_OnlyFindingsInsideBecomeExpected()
    {
        var rule = await harness.Exceptions.CreateAsync(Ssh(ExceptionScopeKind.Cidr, "198.51.100.0/24"), "alice");

        var inside = await harness.FindingAsync(Web1, 22);
        Assert.Equal(TriageStatus.Expected, inside.Status);
        Assert.Equal(rule.Id, inside.ExceptionRuleId);
        Assert.Equal(TriageStatus.Expected, (await harness.FindingAsync(Web2, 22)).Status);
        Assert.Equal(TriageStatus.Unreviewed, (await harness.FindingAsync(Elsewhere, 22)).Status);
        Assert.Equal(TriageStatus.Unreviewed, (await harness.FindingAsync(Web1, 443)).Status); // other port
    }

    [Fact]
    public async Task Create_AddressTagAndAnyScopes_CoverWhatTheySay()
    {
        await harness.Exceptions.CreateAsync(Ssh(ExceptionScopeKind.Address, Web1), "alice");
        Assert.Equal(TriageStatus.Expected, (await harness.FindingAsync(Web1, 22)).Status);
        Assert.Equal(TriageStatus.Unreviewed, (await harness.FindingAsync(Web2, 22)).Status);

        await harness.Exceptions.CreateAsync(Ssh(ExceptionScopeKind.Tag, "EDGE"), "alice");
        Assert.Equal(TriageStatus.Expected, (await harness.FindingAsync(Web2, 22)).Status);
        Assert.Equal(TriageStatus.Unreviewed, (await harness.FindingAsync(Elsewhere, 22)).Status);

        await harness.Exceptions.CreateAsync(Ssh(ExceptionScopeKind.Any, null) with { PortFrom = 400, PortTo = 500, Protocol = null }, "alice");
        Assert.Equal(TriageStatus.Expected, (await harness.FindingAsync(Web1, 443)).Status);
    }

    [Fact]
    public async Task ApplyRun_ServiceChangesUnderFingerprintedException_ExceptionStopsApplyingAndFindingIsFlagged()
    {
        await harness.Exceptions.CreateAsync(Ssh(ExceptionScopeKind.Address, Web1) with { ExpectedService = "ssh", ExpectedProduct = "OpenSSH" }, "alice");
        Assert.Equal(TriageStatus.Expected, (await harness.FindingAsync(Web1, 22)).Status);

        var run = await harness.RunAsync(Web1, TargetCoverageStatus.Complete, new Open(Web1, 22, "ssh", "Dropbear sshd"), new Open(Web1, 443, "https", "nginx"));

        var finding = await harness.FindingAsync(Web1, 22);
        Assert.Equal(TriageStatus.Unreviewed, finding.Status);
        Assert.Null(finding.ExceptionRuleId);
        Assert.True(finding.Flags.HasFlag(FindingFlags.ExceptionMismatch));
        var lapsed = Assert.Single(await harness.ChangesAsync(run), e => e.Kind == FindingEventKind.ExceptionLapsed);
        Assert.Contains("service no longer matches", lapsed.Detail);

        // The analyst looks at it and accepts the new service: the flag goes.
        await harness.Findings.MarkExpectedAsync([finding.Id], "alice", "Dropbear is fine here");
        Assert.Equal(FindingFlags.None, (await harness.FindingAsync(Web1, 22)).Flags & (FindingFlags.ExceptionMismatch | FindingFlags.ServiceChanged));
    }

    [Fact]
    public async Task Expiry_WhenTheExceptionExpires_FindingsGoBackToUnreviewed()
    {
        await harness.Exceptions.CreateAsync(Ssh(ExceptionScopeKind.Cidr, "198.51.100.0/24") with { ExpiresAt = harness.Clock.UtcNow.AddDays(7) }, "alice");
        Assert.Equal(TriageStatus.Expected, (await harness.FindingAsync(Web1, 22)).Status);

        Assert.Equal(0, await TriageMaintenance.ExpireExceptionsAsync(harness, harness.Clock.UtcNow.AddDays(6), CancellationToken.None));
        Assert.Equal(TriageStatus.Expected, (await harness.FindingAsync(Web1, 22)).Status);

        var lapsed = await TriageMaintenance.ExpireExceptionsAsync(harness, harness.Clock.UtcNow.AddDays(8), CancellationToken.None);

        Assert.Equal(2, lapsed);
        var finding = await harness.FindingAsync(Web1, 22);
        Assert.Equal(TriageStatus.Unreviewed, finding.Status);
        Assert.Null(finding.ExceptionRuleId);
        Assert.Contains(await harness.HistoryAsync(finding.Id), e => e.Kind == FindingEventKind.ExceptionLapsed && e.Detail!.Contains("expired"));
    }

    [Fact]
    public async Task Delete_TheFindingsItHeld_GoBackToUnreviewed()
    {
        var rule = await harness.Exceptions.CreateAsync(Ssh(ExceptionScopeKind.Any, null), "alice");

        await harness.Exceptions.DeleteAsync(rule.Id, "bob");

        Assert.Equal(TriageStatus.Unreviewed, (await harness.FindingAsync(Web1, 22)).Status);
        await using var db = harness.CreateDbContext();
        Assert.False(await db.ExceptionRules.AnyAsync());
    }

    [Fact]
    public async Task MarkExpected_WithExceptionForManyFindings_CreatesOneExceptionEachBoundToTheService()
    {
        var ids = new[] { (await harness.FindingAsync(Web1, 22)).Id, (await harness.FindingAsync(Web1, 443)).Id };

        await harness.Findings.MarkExpectedAsync(ids, "alice", "approved in CHG-1234",
            new ExpectedExceptionRequest("public web and bastion", "ciso", harness.Clock.UtcNow.AddDays(90), BindToService: true));

        await using var db = harness.CreateDbContext();
        var rules = await db.ExceptionRules.OrderBy(r => r.PortFrom).ToListAsync();
        Assert.Equal(2, rules.Count);
        Assert.Equal(("ssh", "OpenSSH"), (rules[0].ExpectedService, rules[0].ExpectedProduct));
        Assert.Equal(Web1, rules[1].ScopeValue);
        Assert.All(rules, r => Assert.Equal("ciso", r.Approver));
        var findings = await db.Findings.Where(f => ids.Contains(f.Id)).ToListAsync();
        Assert.All(findings, f => Assert.Equal(TriageStatus.Expected, f.Status));
        Assert.All(findings, f => Assert.Contains(f.ExceptionRuleId, rules.Select(r => (int?)r.Id)));
    }

    [Fact]
    public async Task Create_BadInput_ClearErrorsAndNothingStored()
    {
        var error = await Assert.ThrowsAsync<InputException>(() => harness.Exceptions.CreateAsync(new ExceptionRuleInput
        {
            ScopeKind = ExceptionScopeKind.Cidr, ScopeValue = "10.0.0.0/33", PortFrom = 90, PortTo = 80, Reason = " ", ExpiresAt = harness.Clock.UtcNow.AddDays(-1),
        }, "alice"));

        Assert.Contains("is not a CIDR block", error.Errors["ScopeValue"][0]);
        Assert.Contains("ends before it starts", error.Errors["PortTo"][0]);
        Assert.Contains("say why", error.Errors["Reason"][0]);
        Assert.Contains("in the past", error.Errors["ExpiresAt"][0]);
        await using var db = harness.CreateDbContext();
        Assert.False(await db.ExceptionRules.AnyAsync());
    }

    [Fact]
    public async Task TriageAndConfiguration_EveryChange_IsAuditedWithBeforeAndAfter()
    {
        var finding = await harness.FindingAsync(Elsewhere, 22);
        await harness.AddUserAsync("bob");
        await harness.Findings.MarkAbnormalAsync([finding.Id], "alice", Severity.Critical, "bob", "nobody knows this host");
        var rule = await harness.Exceptions.CreateAsync(Ssh(ExceptionScopeKind.Address, Web1), "carol");
        await harness.Exceptions.UpdateAsync(rule.Id, Ssh(ExceptionScopeKind.Address, Web1) with { Reason = "bastion, renewed" }, "carol");
        await harness.Catalogue.SaveAsync(new RiskRule { Port = 8443, Protocol = TransportProtocol.Tcp, Name = "Admin UI", Severity = Severity.High }, "dave");

        await using var db = harness.CreateDbContext();
        var entries = await db.AuditEntries.OrderBy(a => a.Id).ToListAsync();
        Assert.Equal(["finding.mark-abnormal", "exception.create", "exception.update", "risk-rule.create"], entries.Select(e => e.Action));
        var abnormal = entries[0];
        Assert.Equal("alice", abnormal.User);
        Assert.Equal(finding.Id.ToString(), abnormal.EntityId);
        Assert.Contains("\"Status\":\"Unreviewed\"", abnormal.Before);
        Assert.Contains("\"Status\":\"Abnormal\"", abnormal.After);
        Assert.Contains("\"Assignee\":\"bob\"", abnormal.After);
        Assert.Contains("bastion hosts", entries[2].Before);
        Assert.Contains("bastion, renewed", entries[2].After);
        Assert.Equal("dave", entries[3].User);
    }
}
