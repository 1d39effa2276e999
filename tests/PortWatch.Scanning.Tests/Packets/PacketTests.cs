using System.Buffers.Binary;
using System.Net;
using PortWatch.Scanning.Packets;

namespace PortWatch.Scanning.Tests.Packets;

public class PacketTests
{
    private static uint Ip(string address) => BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(address).GetAddressBytes());

    [Fact]
    public void Write_SynProbe_MatchesGoldenBytes()
    {
        // Reference built by an independent implementation (Python struct + RFC 1071 checksum).
        const string golden = "4500002c12340000400652c70a6300010a63010bee4800500102030400000000600204008bb60000020405b4";
        var buffer = new byte[SynPacket.Length];

        SynPacket.Write(buffer, Ip("10.99.0.1"), Ip("10.99.1.11"), 61000, 80, 0x01020304, 0x1234, 64);

        Assert.Equal(golden, Convert.ToHexStringLower(buffer));
    }

    [Fact]
    public void Write_SynProbe_ChecksumsVerifyToZero()
    {
        var buffer = new byte[SynPacket.Length];
        SynPacket.Write(buffer, Ip("198.18.0.1"), Ip("198.18.1.77"), 61000, 65535, 0xFFFFFFFF, 7, 255);

        Assert.Equal(0, InternetChecksum.Compute(buffer.AsSpan(0, 20)));
        // Recomputing over a segment that already holds its checksum gives 0 (ones' complement identity).
        Assert.Equal(0, InternetChecksum.Finish(InternetChecksum.Accumulate(buffer.AsSpan(20),
            (Ip("198.18.0.1") >> 16) + (Ip("198.18.0.1") & 0xFFFF) + (Ip("198.18.1.77") >> 16) + (Ip("198.18.1.77") & 0xFFFF) + 6 + 24)));
    }

    // The three replies below were captured from a Linux 6.x kernel answering SYN probes from 127.0.0.1:40000.

    [Fact]
    public void Parse_RealSynAck_IsTcpWithSynAckAndOurSequencePlusOne()
    {
        // Note the checksum field (0xfe20): unfinished, as kernels leave it on loopback and veth.
        var packet = Convert.FromHexString("4500002c0000400040063cca7f0000017f0000011f909c403559e56a112233456012ffd7fe2000000204ffd7");

        var reply = ReplyPacket.Parse(packet);

        Assert.Equal(ReplyKind.Tcp, reply.Kind);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, reply.Flags);
        Assert.Equal(8080, reply.SourcePort);
        Assert.Equal(40000, reply.DestinationPort);
        Assert.Equal(0x11223344u + 1, reply.Acknowledgment);
        Assert.Equal(64, reply.Ttl);
        Assert.Equal(Ip("127.0.0.1"), reply.SourceAddress);
    }

    [Fact]
    public void Parse_RealRst_IsTcpWithRstAckAndOurSequencePlusOne()
    {
        var packet = Convert.FromHexString("450000280000400040063cce7f0000017f00000100099c4000000000556677895014000048950000");

        var reply = ReplyPacket.Parse(packet);

        Assert.Equal(ReplyKind.Tcp, reply.Kind);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reply.Flags);
        Assert.Equal(9, reply.SourcePort);
        Assert.Equal(0x55667788u + 1, reply.Acknowledgment);
    }

    [Fact]
    public void Parse_RealIcmpPortUnreachable_QuotesOurProbe()
    {
        var packet = Convert.FromHexString(
            "45c00048c67b00004001b5777f0000017f0000010303fb1d000000004500002c1234000040066a967f0000017f0000019c400cea99aabbcc000000006002040097820000020405b4");

        var reply = ReplyPacket.Parse(packet);

        Assert.Equal(ReplyKind.IcmpUnreachable, reply.Kind);
        Assert.Equal(3, reply.IcmpType);
        Assert.Equal(3, reply.IcmpCode);
        Assert.Equal(40000, reply.SourcePort);       // our probe's source port
        Assert.Equal(3306, reply.DestinationPort);   // the probed port
        Assert.Equal(0x99aabbccu, reply.Sequence);    // our cookie, as sent
    }

    [Theory]
    [InlineData("")]
    [InlineData("45000028")]
    [InlineData("600000000000000000000000000000000000000000000000")]             // IPv6
    [InlineData("4500002800004000401100000a0000010a000002000000000000000000000000")] // UDP
    [InlineData("4500002c00002001400600007f0000017f0000011f909c40")]             // fragment, truncated
    [InlineData("45c00048c67b00004001b5777f0000017f0000010303fb1d00000000450000")] // ICMP quoting too little
    public void Parse_GarbageOrForeignPacket_IsOther(string hex)
    {
        Assert.Equal(ReplyKind.Other, ReplyPacket.Parse(Convert.FromHexString(hex)).Kind);
    }
}
