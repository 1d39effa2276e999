using Microsoft.EntityFrameworkCore;
using PortWatch.Tests.Shared;
using PortWatch.Web.Common;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Tests.Alerts;
using PortWatch.Web.Triage;
using static PortWatch.Web.Tests.Triage.TriageHarness;

namespace PortWatch.Web.Tests.Triage;

/// <summary>A finding's discussion, assignment to users (with e-mail) and the words its history uses.</summary>
public sealed class FindingWorkflowTests : IAsyncLifetime
{
    private const string Host = "203.0.113.20";
    private TriageHarness harness = null!;

    public async Task InitializeAsync() => harness = await TriageHarness.CreateAsync();

    public async Task DisposeAsync() => await harness.DisposeAsync();

    private async Task<Finding> OpenFindingAsync(int port = 3389)
    {
        await harness.RunAsync(Host, TargetCoverageStatus.Complete, new Open(Host, port, "ms-wbt-server"));
        return await harness.FindingAsync(Host, port);
    }

    private async Task<List<FindingComment>> CommentsAsync(long id)
    {
        await using var db = harness.CreateDbContext();
        return await db.FindingComments.Where(c => c.FindingId == id).OrderBy(c => c.Id).ToListAsync();
    }

    [Fact]
    public async Task Notes_GivenWithTwoActions_BothStayInTheDiscussion()
    {
        var finding = await OpenFindingAsync();

        await harness.Findings.MarkAbnormalAsync([finding.Id], "alice", note: "RDP open to the world, asking the owner");
        await harness.Findings.ResolveAsync([finding.Id], "bob", "firewall rule added, ticket NET-7");
        await harness.Findings.CommentAsync(finding.Id, "alice", "confirmed closed from outside");

        var comments = await CommentsAsync(finding.Id);
        Assert.Equal(
            [("alice", "RDP open to the world, asking the owner"), ("bob", "firewall rule added, ticket NET-7"), ("alice", "confirmed closed from outside")],
            comments.Select(c => (c.Author, c.Text)));
        Assert.Equal("confirmed closed from outside", (await harness.FindingAsync(Host, 3389)).Notes);
        var history = await harness.HistoryAsync(finding.Id);
        Assert.Equal(3, history.Count(e => e.Kind == FindingEventKind.Commented));
    }

    [Fact]
    public async Task CommentAsync_EmptyOrTooLong_IsRefusedAndNothingStored()
    {
        var finding = await OpenFindingAsync();

        var empty = await Assert.ThrowsAsync<InputException>(() => harness.Findings.CommentAsync(finding.Id, "alice", "   "));
        var huge = await Assert.ThrowsAsync<InputException>(() => harness.Findings.CommentAsync(finding.Id, "alice", new string('x', 4001)));
        var missing = await Assert.ThrowsAsync<InputException>(() => harness.Findings.CommentAsync(999_999, "alice", "hello"));

        Assert.Contains("write a comment", empty.Message);
        Assert.Contains("4000", huge.Message);
        Assert.Contains("no longer exists", missing.Message);
        Assert.Empty(await CommentsAsync(finding.Id));
    }

    [Fact]
    public async Task History_SameStatusAgain_SaysWhatChangedNotAbnormalToAbnormal()
    {
        var finding = await OpenFindingAsync();
        await harness.AddUserAsync("carol");

        await harness.Findings.MarkAbnormalAsync([finding.Id], "alice");
        await harness.Findings.MarkAbnormalAsync([finding.Id], "alice", Severity.Critical, "carol");
        await harness.Findings.MarkAbnormalAsync([finding.Id], "bob");

        var details = (await harness.HistoryAsync(finding.Id)).Where(e => e.Kind == FindingEventKind.TriageChanged).Select(e => e.Detail).ToList();
        Assert.Equal(
            ["Unreviewed → Abnormal by alice", "still Abnormal, severity set to Critical, assigned to carol by alice", "Abnormal confirmed by bob"],
            details);
        Assert.DoesNotContain(details, d => d!.Contains("Abnormal → Abnormal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AssignAsync_NotAUser_IsRefusedAndNothingChanges()
    {
        var finding = await OpenFindingAsync();

        var error = await Assert.ThrowsAsync<InputException>(() => harness.Findings.AssignAsync([finding.Id], "alice", "mallory"));

        Assert.Contains("no user named 'mallory'", error.Message);
        Assert.Null((await harness.FindingAsync(Host, 3389)).Assignee);
    }

    [Fact]
    public async Task AssignAsync_WithNotify_MailsTheAssigneeTheFindings()
    {
        using var smtp = new SmtpSink();
        harness.Smtp.Host = "127.0.0.1";
        harness.Smtp.Port = smtp.Port;
        var finding = await OpenFindingAsync();
        await harness.AddUserAsync("dave", "dave@example.test");

        var result = await harness.Findings.AssignAsync([finding.Id], "alice", "dave", notify: true);

        Assert.Equal((1, null), (result.Changed, result.MailProblem));
        Assert.Equal("dave", (await harness.FindingAsync(Host, 3389)).Assignee);
        var (recipients, data) = Assert.Single(smtp.Messages);
        Assert.Equal(["dave@example.test"], recipients);
        var body = SmtpSink.Body(data);
        Assert.Contains("alice assigned 1 finding(s) to you", body);
        Assert.Contains($"{Host} 3389/tcp", body);
        var history = await harness.HistoryAsync(finding.Id);
        Assert.Contains(history, e => e.Detail == "still Unreviewed, assigned to dave by alice");
    }

    [Fact]
    public async Task AssignAsync_NoMailServerOrNoAddress_AssignsAndSaysWhyNobodyWasMailed()
    {
        var finding = await OpenFindingAsync();
        await harness.AddUserAsync("erin");

        var noServer = await harness.Findings.AssignAsync([finding.Id], "alice", "erin", notify: true);
        harness.Smtp.Host = "127.0.0.1";
        var noAddress = await harness.Findings.AssignAsync([finding.Id], "alice", "erin", notify: true);

        Assert.Contains("no mail server", noServer.MailProblem);
        Assert.Contains("erin has no e-mail address", noAddress.MailProblem);
        Assert.Equal("erin", (await harness.FindingAsync(Host, 3389)).Assignee);
    }

    [Fact]
    public async Task QuickFilters_MineAndUnassigned_FollowTheAssignee()
    {
        var mine = await OpenFindingAsync(3389);
        var nobodys = await OpenFindingAsync(6379);
        await harness.AddUserAsync("frank");
        await harness.Findings.AssignAsync([mine.Id], "alice", "frank");

        await using var db = harness.CreateDbContext();
        var now = harness.Clock.UtcNow;
        var forFrank = await new FindingQuery { Quick = FindingQuickFilter.Mine, CurrentUser = "frank" }.Apply(db.Findings, now).Select(f => f.Id).ToListAsync();
        var forNobody = await new FindingQuery { Quick = FindingQuickFilter.Mine }.Apply(db.Findings, now).CountAsync();
        var unassigned = await new FindingQuery { Quick = FindingQuickFilter.Unassigned }.Apply(db.Findings, now).Select(f => f.Id).ToListAsync();

        Assert.Equal([mine.Id], forFrank);
        Assert.Equal(0, forNobody);
        Assert.Equal([nobodys.Id], unassigned);
    }
}
