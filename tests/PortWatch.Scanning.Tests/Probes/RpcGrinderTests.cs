using System.Buffers.Binary;
using PortWatch.Scanning.Probes;

namespace PortWatch.Scanning.Tests.Probes;

public class RpcGrinderTests
{
    private static byte[] Reply(uint xid, params uint[] words)
    {
        var reply = new byte[4 * (words.Length + 1)];
        BinaryPrimitives.WriteUInt32BigEndian(reply, xid);
        for (var i = 0; i < words.Length; i++)
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4 * (i + 1)), words[i]);
        return reply;
    }

    [Fact]
    public void Call_WithRecordMark_IsOneLastFragmentOfFortyBytes()
    {
        var call = RpcGrinder.Call(7, 100003, 3, 0, recordMark: true);

        Assert.Equal(44, call.Length);
        Assert.Equal(0x8000_0028u, BinaryPrimitives.ReadUInt32BigEndian(call));
        Assert.Equal(100003u, BinaryPrimitives.ReadUInt32BigEndian(call.AsSpan(16)));
    }

    [Fact]
    public void ParseReply_ProgramMismatch_GivesTheVersionRange()
    {
        // REPLY, MSG_ACCEPTED, verifier AUTH_NULL (flavor 0, length 0), PROG_MISMATCH, low 2, high 4
        var reply = RpcGrinder.ParseReply(Reply(9, 1, 0, 0, 0, 2, 2, 4), 9);

        Assert.Equal((true, 2u), (reply!.Accepted, reply.Status));
        Assert.Equal([0, 0, 0, 2, 0, 0, 0, 4], reply.Rest);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0, 0, 0, 9, 0, 0, 0, 1 })]
    [InlineData(new byte[] { 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF })]
    public void ParseReply_CutShortOrHostile_GivesNothing(byte[] reply)
    {
        Assert.Null(RpcGrinder.ParseReply(reply, 9));
    }

    [Fact]
    public void ParseReply_AnotherCallsAnswerOrACall_IsNotTakenForOurs()
    {
        Assert.Null(RpcGrinder.ParseReply(Reply(8, 1, 0, 0, 0, 0), 9));
        Assert.Null(RpcGrinder.ParseReply(Reply(9, 0, 0, 0, 0, 0), 9));
    }
}
