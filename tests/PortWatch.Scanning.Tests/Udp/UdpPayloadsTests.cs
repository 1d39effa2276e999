using System.Buffers.Binary;
using PortWatch.Scanning.Udp;

namespace PortWatch.Scanning.Tests.Udp;

public class UdpPayloadsTests
{
    [Fact]
    public void Dns_Query_HasOneQuestionForTheRootNs()
    {
        var dns = UdpPayloads.Dns;

        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(dns.AsSpan(4)));   // QDCOUNT
        Assert.Equal(0, dns[12]);                                               // root name
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(dns.AsSpan(13)));  // NS
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(dns.AsSpan(15)));  // IN
        Assert.Equal(17, dns.Length);
    }

    [Fact]
    public void Ntp_Request_IsVersion4ClientMode()
    {
        Assert.Equal(48, UdpPayloads.Ntp.Length);
        Assert.Equal(4, (UdpPayloads.Ntp[0] >> 3) & 7);
        Assert.Equal(3, UdpPayloads.Ntp[0] & 7);
    }

    [Fact]
    public void Snmp_GetRequest_IsWellFormedBer()
    {
        // Every constructed element's length must match its contents exactly.
        static int Walk(ReadOnlySpan<byte> data)
        {
            var elements = 0;
            while (data.Length > 0)
            {
                var tag = data[0];
                var length = data[1];
                Assert.True(length < 0x80, "short-form lengths only");
                Assert.True(data.Length >= 2 + length, $"element 0x{tag:x2} overruns its parent");
                if ((tag & 0x20) != 0)
                    elements += Walk(data.Slice(2, length));
                data = data[(2 + length)..];
                elements++;
            }
            return elements;
        }

        Assert.Equal(0x30, UdpPayloads.Snmp[0]);
        Assert.Equal(UdpPayloads.Snmp.Length - 2, UdpPayloads.Snmp[1]);
        Assert.Equal(11, Walk(UdpPayloads.Snmp));
        Assert.Contains("public"u8.ToArray(), new[] { UdpPayloads.Snmp.AsSpan(7, 6).ToArray() });
    }

    [Theory]
    [InlineData(53, 17)]
    [InlineData(123, 48)]
    [InlineData(1900, 94)]
    [InlineData(11211, 17)]
    [InlineData(9999, 0)]
    public void For_Port_PicksItsProtocolOrAnEmptyDatagram(int port, int length)
    {
        Assert.Equal(length, UdpPayloads.For((ushort)port).Length);
    }
}
