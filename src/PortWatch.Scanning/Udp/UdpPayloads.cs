using System.Text;

namespace PortWatch.Scanning.Udp;

/// <summary>
/// UDP services answer only a request they understand, so each well-known port gets a small,
/// harmless protocol request (written here from the protocol specifications); any other port
/// gets an empty datagram.
/// </summary>
public static class UdpPayloads
{
    /// <summary>DNS: standard query for the root's NS records, recursion desired (RFC 1035).</summary>
    public static readonly byte[] Dns =
    [
        0x50, 0x57, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // id "PW", RD, 1 question
        0x00, 0x00, 0x02, 0x00, 0x01,                                           // ".", type NS, class IN
    ];

    /// <summary>NTP v4 client request (RFC 5905): 48 bytes, LI=0 VN=4 Mode=3.</summary>
    public static readonly byte[] Ntp = [0x23, .. new byte[47]];

    /// <summary>SNMPv2c get-request, community "public", for sysDescr.0 (1.3.6.1.2.1.1.1.0), BER encoded.</summary>
    public static readonly byte[] Snmp =
    [
        0x30, 0x29,                                     // SEQUENCE, 41 bytes
        0x02, 0x01, 0x01,                               // version: v2c
        0x04, 0x06, (byte)'p', (byte)'u', (byte)'b', (byte)'l', (byte)'i', (byte)'c',
        0xA0, 0x1C,                                     // GetRequest-PDU, 28 bytes
        0x02, 0x04, 0x50, 0x57, 0x00, 0x01,             // request-id
        0x02, 0x01, 0x00,                               // error-status
        0x02, 0x01, 0x00,                               // error-index
        0x30, 0x0E, 0x30, 0x0C,                         // varbind list, varbind
        0x06, 0x08, 0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, // OID sysDescr.0
        0x05, 0x00,                                     // NULL
    ];

    /// <summary>SSDP discovery (UPnP 1.1), unicast to the target.</summary>
    public static readonly byte[] Ssdp = Encoding.ASCII.GetBytes(
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n");

    /// <summary>memcached over UDP: the 8-byte frame header, then "version" (small answer, no amplification).</summary>
    public static readonly byte[] Memcached = [0x50, 0x57, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, .. "version\r\n"u8];

    public static ReadOnlyMemory<byte> For(ushort port) => port switch
    {
        53 or 5353 => Dns,
        123 => Ntp,
        161 => Snmp,
        1900 => Ssdp,
        11211 => Memcached,
        _ => ReadOnlyMemory<byte>.Empty,
    };
}
