using PortWatch.Web.Reports;

namespace PortWatch.Web.Tests.Reports;

public class ExportGateTests
{
    [Fact]
    public void TryEnter_ThirdExportOfOneUser_IsRefusedUntilOneEnds()
    {
        var gate = new ExportGate();
        using var first = gate.TryEnter("alice");
        var second = gate.TryEnter("alice");

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(gate.TryEnter("alice"));
        using (var other = gate.TryEnter("bob"))
            Assert.NotNull(other); // someone else's exports are not held up

        second!.Dispose();
        second.Dispose(); // twice is once
        using var third = gate.TryEnter("alice");
        Assert.NotNull(third);
        Assert.Null(gate.TryEnter("alice"));
    }
}
