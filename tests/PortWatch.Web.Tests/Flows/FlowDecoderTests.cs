using System.Buffers.Binary;
using System.Net;
using PortWatch.Web.Flows;
using PortWatch.Web.Tests.Triage;

namespace PortWatch.Web.Tests.Flows;

/// <summary>Golden NetFlow v5, v9 (RFC 3954) and IPFIX (RFC 7011) packets, laid out byte by byte as the RFCs define them, and hostile ones.</summary>
public sealed class FlowDecoderTests
{
    private static readonly IPAddress Exporter = IPAddress.Parse("192.0.2.1");
    private readonly ManualClock clock = new(new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc));
    private readonly List<FlowRecord> flows = [];

    private FlowDecoder Decoder() => new(clock);

    /// <summary>Big-endian packet building, as the wire has it.</summary>
    private sealed class Packet
    {
        private readonly List<byte> bytes = [];

        public int Length => bytes.Count;

        public Packet U8(int v) { bytes.Add((byte)v); return this; }
        public Packet U16(int v) { bytes.Add((byte)(v >> 8)); bytes.Add((byte)v); return this; }
        public Packet U32(uint v) { U16((int)(v >> 16)); U16((int)(v & 0xffff)); return this; }
        public Packet V4(string a) { bytes.AddRange(IPAddress.Parse(a).GetAddressBytes()); return this; }
        public Packet Raw(params byte[] b) { bytes.AddRange(b); return this; }
        public Packet Pad(int n) { bytes.AddRange(new byte[n]); return this; }

        /// <summary>Writes a 16-bit length at an offset (set and message lengths are known once the content is).</summary>
        public Packet SetU16(int offset, int v) { bytes[offset] = (byte)(v >> 8); bytes[offset + 1] = (byte)v; return this; }

        public byte[] ToArray() => [.. bytes];
    }

    // Fields of the test template: srcaddr(8,4) dstaddr(12,4) srcport(7,2) dstport(11,2) proto(4,1) flags(6,1) packets(2,4) octets(1,4) = 22 bytes.
    private static readonly (int Type, int Length)[] V4Fields = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 4), (1, 4)];

    private static void V4Record(Packet p, string src, string dst, int sport, int dport, int proto = 6, int flags = 0x12, uint packets = 3, uint octets = 180) =>
        p.V4(src).V4(dst).U16(sport).U16(dport).U8(proto).U8(flags).U32(packets).U32(octets);

    private static Packet V9Header(int count, uint sourceId = 7) => new Packet().U16(9).U16(count).U32(123456).U32(1764590400).U32(1).U32(sourceId);

    private static void V9Template(Packet p, int id, (int Type, int Length)[] fields)
    {
        p.U16(0).U16(4 + 4 + fields.Length * 4).U16(id).U16(fields.Length);
        foreach (var (type, length) in fields)
            p.U16(type).U16(length);
    }

    private static Packet IpfixHeader(uint domain = 1) => new Packet().U16(10).U16(0).U32(1764590400).U32(1).U32(domain);

    private static byte[] IpfixDone(Packet p) => p.SetU16(2, p.Length).ToArray();

    private static void IpfixTemplate(Packet p, int id, (int Type, int Length)[] fields)
    {
        p.U16(2).U16(4 + 4 + fields.Length * 4).U16(id).U16(fields.Length);
        foreach (var (type, length) in fields)
            p.U16(type).U16(length);
    }

    [Fact]
    public void Decode_NetFlowV5_ReadsEveryRecord()
    {
        var p = new Packet().U16(5).U16(2).U32(1000).U32(1764590400).U32(0).U32(42).U8(0).U8(0).U16(0);
        foreach (var (src, dst, sport, dport) in new[] { ("198.51.100.7", "203.0.113.9", 443, 50123), ("203.0.113.9", "198.51.100.7", 50123, 443) })
        {
            p.V4(src).V4(dst).V4("0.0.0.0").U16(1).U16(2).U32(10).U32(1500).U32(100).U32(200).U16(sport).U16(dport).U8(0).U8(0x1b).U8(6).U8(0).U16(0).U16(0).U8(24).U8(24).U16(0);
        }

        var drop = Decoder().Decode(p.ToArray(), Exporter, flows);

        Assert.Equal(FlowDrop.None, drop);
        Assert.Equal(2, flows.Count);
        var first = flows[0];
        Assert.Equal((IPAddress.Parse("198.51.100.7"), IPAddress.Parse("203.0.113.9"), (ushort)443, (ushort)50123, (byte)6, (byte)0x1b, 10UL, 1500UL),
            (first.SourceAddress, first.DestinationAddress, first.SourcePort, first.DestinationPort, first.Protocol, first.TcpFlags, first.Packets, first.Bytes));
    }

    [Fact]
    public void Decode_NetFlowV5_CountBeyondThePacket_IsTruncatedAndNothingRead()
    {
        var p = new Packet().U16(5).U16(3).U32(0).U32(0).U32(0).U32(0).U32(0).Pad(48);

        Assert.Equal(FlowDrop.Truncated, Decoder().Decode(p.ToArray(), Exporter, flows));
        Assert.Empty(flows);
    }

    [Fact]
    public void Decode_NetFlowV9_DataBeforeItsTemplate_IsCountedThenDecodedOnceTheTemplateArrives()
    {
        var decoder = Decoder();
        var data = V9Header(1);
        data.U16(256).U16(4 + 22 + 2);
        V4Record(data, "203.0.113.50", "198.51.100.7", 51000, 22);
        data.Pad(2); // padding to a 4-byte boundary
        var template = V9Header(1);
        V9Template(template, 256, V4Fields);

        var before = decoder.Decode(data.ToArray(), Exporter, flows);
        var learnt = decoder.Decode(template.ToArray(), Exporter, flows);
        var after = decoder.Decode(data.ToArray(), Exporter, flows);

        Assert.Equal((FlowDrop.NoTemplate, FlowDrop.None, FlowDrop.None), (before, learnt, after));
        var flow = Assert.Single(flows);
        Assert.Equal((IPAddress.Parse("203.0.113.50"), (ushort)22, 3UL, 180UL), (flow.SourceAddress, flow.DestinationPort, flow.Packets, flow.Bytes));
    }

    [Fact]
    public void Decode_NetFlowV9_OptionsTemplateAndItsData_AreSkippedWithoutComplaint()
    {
        var p = V9Header(3);
        // Options template: id 257, scope length 4 (one scope field: system, 4 bytes), option length 8 (two fields).
        p.U16(1).U16(4 + 6 + 4 + 8 + 2).U16(257).U16(4).U16(8).U16(1).U16(4).U16(34).U16(4).U16(36).U16(2).Pad(2);
        V9Template(p, 256, V4Fields);
        p.U16(257).U16(4 + 10 + 2).U32(1).U32(1000).U16(60).Pad(2);
        p.U16(256).U16(4 + 22);
        V4Record(p, "203.0.113.51", "198.51.100.7", 51001, 3389);

        Assert.Equal(FlowDrop.None, Decoder().Decode(p.ToArray(), Exporter, flows));
        Assert.Equal((ushort)3389, Assert.Single(flows).DestinationPort);
    }

    [Fact]
    public void Decode_Ipfix_TemplateAndDataInOnePacketWithIpv6()
    {
        var p = IpfixHeader();
        IpfixTemplate(p, 300, [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1)]);
        p.U16(300).U16(4 + 37);
        p.Raw(IPAddress.Parse("2001:db8::50").GetAddressBytes()).Raw(IPAddress.Parse("2001:db8::7").GetAddressBytes()).U16(40000).U16(6379).U8(6);

        Assert.Equal(FlowDrop.None, Decoder().Decode(IpfixDone(p), Exporter, flows));
        var flow = Assert.Single(flows);
        Assert.Equal((IPAddress.Parse("2001:db8::50"), IPAddress.Parse("2001:db8::7"), (ushort)6379), (flow.SourceAddress, flow.DestinationAddress, flow.DestinationPort));
    }

    [Fact]
    public void Decode_Ipfix_SameTemplateIdInTwoObservationDomains_EachKeepsItsOwnLayout()
    {
        var decoder = Decoder();
        var one = IpfixHeader(domain: 1);
        IpfixTemplate(one, 256, V4Fields);
        var two = IpfixHeader(domain: 2);
        IpfixTemplate(two, 256, [(12, 4), (11, 2), (8, 4), (7, 2), (4, 1)]); // the same id, another order
        decoder.Decode(IpfixDone(one), Exporter, flows);
        decoder.Decode(IpfixDone(two), Exporter, flows);

        var dataOne = IpfixHeader(domain: 1);
        dataOne.U16(256).U16(4 + 22);
        V4Record(dataOne, "203.0.113.60", "198.51.100.7", 50000, 8080);
        var dataTwo = IpfixHeader(domain: 2);
        dataTwo.U16(256).U16(4 + 13).V4("198.51.100.7").U16(9200).V4("203.0.113.61").U16(50001).U8(6);
        decoder.Decode(IpfixDone(dataOne), Exporter, flows);
        decoder.Decode(IpfixDone(dataTwo), Exporter, flows);

        Assert.Equal([(ushort)8080, (ushort)9200], flows.Select(f => f.DestinationPort));
        Assert.Equal([IPAddress.Parse("203.0.113.60"), IPAddress.Parse("203.0.113.61")], flows.Select(f => f.SourceAddress));
        Assert.Equal(2, decoder.TemplatesOf(Exporter));
    }

    [Fact]
    public void Decode_Ipfix_VariableLengthAndEnterpriseFields_AreSteppedOver()
    {
        var p = IpfixHeader();
        // interfaceName (82, variable), an enterprise field (0x8000 | 1, 4 bytes, PEN 29305), then the addresses and ports.
        p.U16(2).U16(4 + 4 + 4 + 8 + 4 * 4).U16(400).U16(6).U16(82).U16(65535).U16(0x8001).U16(4).U32(29305).U16(8).U16(4).U16(12).U16(4).U16(7).U16(2).U16(11).U16(2);
        var longName = new string('e', 300);
        p.U16(400).U16(0);
        var setStart = p.Length - 4;
        p.U8(4).Raw("eth0"u8.ToArray()).U32(0xdeadbeef).V4("203.0.113.70").V4("198.51.100.7").U16(50100).U16(2375);
        p.U8(255).U16(longName.Length).Raw(System.Text.Encoding.ASCII.GetBytes(longName)).U32(1).V4("203.0.113.71").V4("198.51.100.7").U16(50101).U16(2376);
        p.SetU16(setStart + 2, p.Length - setStart);

        Assert.Equal(FlowDrop.None, Decoder().Decode(IpfixDone(p), Exporter, flows));
        Assert.Equal([(ushort)2375, (ushort)2376], flows.Select(f => f.DestinationPort));
    }

    [Fact]
    public void Decode_Ipfix_TemplateWithdrawnOrExpired_DataIsNoLongerDecoded()
    {
        var decoder = Decoder();
        var template = IpfixHeader();
        IpfixTemplate(template, 256, V4Fields);
        var data = IpfixHeader();
        data.U16(256).U16(4 + 22);
        V4Record(data, "203.0.113.80", "198.51.100.7", 50200, 22);
        var withdrawal = IpfixHeader().U16(2).U16(8).U16(256).U16(0);

        decoder.Decode(IpfixDone(template), Exporter, flows);
        var withdrawn = decoder.Decode(IpfixDone(withdrawal), Exporter, flows);
        var afterWithdrawal = decoder.Decode(IpfixDone(data), Exporter, flows);
        decoder.Decode(IpfixDone(template), Exporter, flows);
        clock.UtcNow += FlowDecoder.TemplateLifetime + TimeSpan.FromMinutes(1);
        var afterExpiry = decoder.Decode(IpfixDone(data), Exporter, flows);

        Assert.Equal((FlowDrop.None, FlowDrop.NoTemplate, FlowDrop.NoTemplate), (withdrawn, afterWithdrawal, afterExpiry));
        Assert.Empty(flows);
    }

    [Theory]
    [InlineData("set of length zero")]
    [InlineData("set longer than the packet")]
    [InlineData("message length beyond the packet")]
    [InlineData("template with 65535 fields")]
    [InlineData("template field of length zero")]
    [InlineData("record cut short")]
    [InlineData("unknown version")]
    public void Decode_HostilePacket_IsDroppedAndCountedNeverThrown(string what)
    {
        var decoder = Decoder();
        var p = IpfixHeader();
        byte[] packet;
        switch (what)
        {
            case "set of length zero": p.U16(256).U16(0).Pad(20); packet = IpfixDone(p); break;
            case "set longer than the packet": p.U16(256).U16(4000).Pad(20); packet = IpfixDone(p); break;
            case "message length beyond the packet": p.U16(2).U16(8); packet = p.SetU16(2, 9000).ToArray(); break;
            case "template with 65535 fields": p.U16(2).U16(8).U16(256).U16(65535); packet = IpfixDone(p); break;
            case "template field of length zero": p.U16(2).U16(12).U16(256).U16(1).U16(8).U16(0); packet = IpfixDone(p); break;
            case "record cut short":
                IpfixTemplate(p, 256, V4Fields);
                p.U16(256).U16(4 + 22);
                V4Record(p, "203.0.113.90", "198.51.100.7", 1, 2);
                packet = IpfixDone(p)[..^5];
                BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
                break;
            default: packet = [0, 11, 0, 0]; break;
        }

        var drop = decoder.Decode(packet, Exporter, flows);

        Assert.NotEqual(FlowDrop.None, drop);
        Assert.Empty(flows);
    }

    [Fact]
    public void Decode_RandomBytes_NeverThrowsAndNeverHoldsMoreThanItsTemplateLimit()
    {
        var decoder = Decoder();
        var random = new Random(1234);
        for (var i = 0; i < 20_000; i++)
        {
            var packet = new byte[random.Next(0, 600)];
            random.NextBytes(packet);
            if (packet.Length >= 2)
                packet[1] = (byte)(i % 3 == 0 ? 5 : i % 3 == 1 ? 9 : 10);
            if (packet.Length >= 1)
                packet[0] = 0;
            flows.Clear();
            decoder.Decode(packet, Exporter, flows);
            Assert.True(flows.Count <= packet.Length / 4 + 1);
        }
        Assert.InRange(decoder.TemplatesOf(Exporter), 0, FlowDecoder.MaxTemplatesPerExporter);
    }

    [Fact]
    public void Decode_MoreTemplatesThanTheLimit_TheRestAreRefused()
    {
        var decoder = Decoder();
        FlowDrop last = FlowDrop.None;
        for (var id = 256; id < 256 + FlowDecoder.MaxTemplatesPerExporter + 5; id++)
        {
            var p = IpfixHeader();
            IpfixTemplate(p, id, V4Fields);
            last = decoder.Decode(IpfixDone(p), Exporter, flows);
        }

        Assert.Equal(FlowDrop.TooManyTemplates, last);
        Assert.Equal(FlowDecoder.MaxTemplatesPerExporter, decoder.TemplatesOf(Exporter));
    }
}
