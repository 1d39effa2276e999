using System.Text.Json;
using PortWatch.Web.Common;

namespace PortWatch.Web.Tests.Common;

public sealed class AuditDiffTests
{
    [Fact]
    public void Changes_UpdatedEntity_ListsOnlyTheChangedFieldsAsPlainText()
    {
        // The audit log's own serializer escapes quotes as \u0022; the diff shows the text itself.
        var before = JsonSerializer.Serialize(new { Id = 7, Status = "Unreviewed", Assignee = (string?)null, Reason = "the \"old\" bastion", Tags = new[] { "dmz" } });
        var after = JsonSerializer.Serialize(new { Id = 7, Status = "Abnormal", Assignee = "carol", Reason = "the \"old\" bastion", Tags = new[] { "dmz", "prod" } });
        Assert.Contains("\\u0022", before);

        var changes = AuditDiff.Changes(before, after);

        Assert.Equal(
            [new AuditFieldChange("Status", "Unreviewed", "Abnormal"), new AuditFieldChange("Assignee", null, "carol"), new AuditFieldChange("Tags", "dmz", "dmz, prod")],
            changes);
    }

    [Fact]
    public void Changes_CreatedAndDeleted_ListWhatItWasMadeWithOrWhatItWas()
    {
        var created = AuditDiff.Changes(null, """{"Name":"web","Enabled":true}""");
        var deleted = AuditDiff.Changes("""{"Name":"web","Enabled":false}""", null);

        Assert.Equal([new AuditFieldChange("Name", null, "web"), new AuditFieldChange("Enabled", null, "yes")], created);
        Assert.Equal([new AuditFieldChange("Name", "web", null), new AuditFieldChange("Enabled", "no", null)], deleted);
    }

    [Fact]
    public void Changes_NotJsonOrHostileText_ShownAsOnePrintableValue()
    {
        var changes = AuditDiff.Changes("not json", "{\"Banner\":\"evil\\u001b[31m\"}");

        Assert.Equal("not json", Assert.Single(changes, c => c.Field == "value").Before);
        Assert.DoesNotContain('\u001b', Assert.Single(changes, c => c.Field == "Banner").After!);
    }
}
