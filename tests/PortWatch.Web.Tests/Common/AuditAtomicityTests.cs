using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Alerts;
using PortWatch.Web.Api;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Inventory;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Tests.Common;

/// <summary>
/// A change and its audit entry are one transaction: when the audit entry cannot be written
/// (here a trigger refuses every insert into the audit table), the change is not made either,
/// so nothing in PortWatch changes without a record of who changed it.
/// </summary>
public sealed class AuditAtomicityTests : IDisposable
{
    private readonly PortWatchAppFactory app = new();

    private async Task RefuseAuditEntriesAsync()
    {
        _ = app.Server;
        await using var db = await app.CreateDbContextAsync();
        await db.Database.ExecuteSqlRawAsync("""
            CREATE TRIGGER refuse_audit BEFORE INSERT ON AuditEntries
            BEGIN SELECT RAISE(ABORT, 'the audit log is unavailable'); END
            """);
    }

    private async Task AssertRefusedAndAbsentAsync(Func<Task> change, Func<Task<bool>> exists)
    {
        await Assert.ThrowsAnyAsync<Exception>(change);
        Assert.False(await exists(), "the change was stored without its audit entry");
    }

    private T Service<T>()
        where T : notnull => app.Services.CreateScope().ServiceProvider.GetRequiredService<T>();

    [Fact]
    public async Task Save_AuditEntryCannotBeWritten_NothingIsChanged()
    {
        _ = app.Server;
        await using var check = await app.CreateDbContextAsync();
        var profileId = (await check.ScanProfiles.FirstAsync()).Id;
        await RefuseAuditEntriesAsync();

        await AssertRefusedAndAbsentAsync(
            () => Service<AssetService>().SaveAsync(0, new AssetInput { Target = "198.51.100.77", Name = "audit-asset" }, "tester"),
            () => check.Assets.AnyAsync(a => a.Name == "audit-asset"));
        await AssertRefusedAndAbsentAsync(
            () => Service<ScheduleService>().SaveScheduleAsync(new Schedule { Name = "audit-schedule", CronExpression = "0 0 3 * * ?", ScanProfileId = profileId }, "tester"),
            () => check.Schedules.AnyAsync(s => s.Name == "audit-schedule"));
        await AssertRefusedAndAbsentAsync(
            () => Service<ScheduleService>().SaveProfileAsync(new ScanProfile { Name = "audit-profile", TcpPorts = "22" }, "tester"),
            () => check.ScanProfiles.AnyAsync(p => p.Name == "audit-profile"));
        await AssertRefusedAndAbsentAsync(
            () => Service<ExceptionRuleService>().CreateAsync(new ExceptionRuleInput { ScopeKind = ExceptionScopeKind.Address, ScopeValue = "198.51.100.77", PortFrom = 22, PortTo = 22, Reason = "audit-exception" }, "tester"),
            () => check.ExceptionRules.AnyAsync(r => r.Reason == "audit-exception"));
        await AssertRefusedAndAbsentAsync(
            () => Service<RiskCatalogueService>().SaveAsync(new RiskRule { Port = 4444, Protocol = TransportProtocol.Tcp, Name = "audit-rule", Severity = Severity.High }, "tester"),
            () => check.RiskRules.AnyAsync(r => r.Name == "audit-rule"));
        await AssertRefusedAndAbsentAsync(
            () => Service<AlertChannelService>().SaveAsync(new AlertChannel { Name = "audit-channel", Kind = AlertChannelKind.Webhook, Target = "http://127.0.0.1:9/hook" }, "tester"),
            () => check.AlertChannels.AnyAsync(c => c.Name == "audit-channel"));
        var admin = await check.Users.FirstAsync();
        await AssertRefusedAndAbsentAsync(
            () => Service<ApiTokenService>().CreateAsync(admin.Id, admin.UserName!, "audit-token", null),
            () => check.ApiTokens.AnyAsync(t => t.Name == "audit-token"));
        await AssertRefusedAndAbsentAsync(
            () => Service<ScanQueue>().QueueAsync(new ScanRequest { Targets = "198.51.100.77", ProfileId = profileId, RequestedBy = "tester" }, null),
            () => check.ScanRuns.AnyAsync(r => r.TargetSpec == "198.51.100.77"));
    }

    public void Dispose() => app.Dispose();
}
