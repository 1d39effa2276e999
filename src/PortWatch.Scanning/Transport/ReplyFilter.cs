using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace PortWatch.Scanning.Transport;

/// <summary>
/// Classic BPF programs for the raw receive sockets, so that the kernel hands the scanner only
/// what can be an answer to its probes: TCP segments to its source port, and ICMP destination
/// unreachable messages quoting a TCP header from that port. Without them a raw socket gets a
/// copy of every TCP and ICMP packet the host receives, and a busy server's traffic would go
/// through the scanner's receive threads. A raw IPv4 socket's filter sees the packet from its IP
/// header on.
/// </summary>
public static class ReplyFilter
{
    private const ushort LdxMsh = 0x01 | 0x10 | 0xa0;   // X = 4 * (packet[k] & 0xf): the IP header's length
    private const ushort LdhInd = 0x00 | 0x08 | 0x40;   // A = 16 bits at X + k
    private const ushort LdbInd = 0x00 | 0x10 | 0x40;   // A = 8 bits at X + k
    private const ushort LdhAbs = 0x00 | 0x08 | 0x20;   // A = 16 bits at k
    private const ushort LdbAbs = 0x00 | 0x10 | 0x20;   // A = 8 bits at k
    private const ushort JeqK = 0x05 | 0x10 | 0x00;     // if A == k then jump jt else jf
    private const ushort RetK = 0x06;                   // accept k bytes (0: drop)
    private const uint Accept = 0xFFFF;

    private readonly record struct Instruction(ushort Code, byte JumpTrue, byte JumpFalse, uint K);

    /// <summary>TCP: the destination port (two bytes into the TCP header) is the source port.</summary>
    public static byte[] ForTcp(ushort sourcePort) => Encode(
    [
        new(LdxMsh, 0, 0, 0),
        new(LdhInd, 0, 0, 2),
        new(JeqK, 0, 1, sourcePort),
        new(RetK, 0, 0, Accept),
        new(RetK, 0, 0, 0),
    ]);

    /// <summary>
    /// ICMP: type 3 (unreachable), quoting a TCP header (protocol 6 at byte 9 of the quoted IP header, 8 bytes into
    /// the ICMP message) whose source port is ours. The quoted header is our own probe's, so it is 20 bytes long.
    /// </summary>
    public static byte[] ForIcmp(ushort sourcePort) => Encode(
    [
        new(LdxMsh, 0, 0, 0),
        new(LdbInd, 0, 0, 0),
        new(JeqK, 0, 5, 3),
        new(LdbInd, 0, 0, 8 + 9),
        new(JeqK, 0, 3, 6),
        new(LdhInd, 0, 0, 8 + 20),
        new(JeqK, 0, 1, sourcePort),
        new(RetK, 0, 0, Accept),
        new(RetK, 0, 0, 0),
    ]);

    /// <summary>IPv6 TCP: a raw IPv6 socket's filter sees the packet from the TCP header on (the IPv6 header is gone).</summary>
    public static byte[] ForTcp6(ushort sourcePort) => Encode(
    [
        new(LdhAbs, 0, 0, 2),
        new(JeqK, 0, 1, sourcePort),
        new(RetK, 0, 0, Accept),
        new(RetK, 0, 0, 0),
    ]);

    /// <summary>ICMPv6 type 1 (destination unreachable) quoting our probe: its IPv6 header (next header TCP) 8 bytes in, its TCP header 40 bytes later.</summary>
    public static byte[] ForIcmp6(ushort sourcePort) => Encode(
    [
        new(LdbAbs, 0, 0, 0),
        new(JeqK, 0, 5, 1),
        new(LdbAbs, 0, 0, 8 + 6),
        new(JeqK, 0, 3, 6),
        new(LdhAbs, 0, 0, 8 + 40),
        new(JeqK, 0, 1, sourcePort),
        new(RetK, 0, 0, Accept),
        new(RetK, 0, 0, 0),
    ]);

    /// <summary>Drops everything: for a raw socket that only sends (the IPv4 sender, the IPv6 sender).</summary>
    public static byte[] AcceptNothing() => Encode([new(RetK, 0, 0, 0)]);

    /// <summary>struct sock_filter[]: code, jt, jf, k in host order.</summary>
    private static byte[] Encode(Instruction[] program)
    {
        var bytes = new byte[program.Length * 8];
        for (var i = 0; i < program.Length; i++)
        {
            var at = bytes.AsSpan(i * 8);
            BinaryPrimitives.WriteUInt16LittleEndian(at, program[i].Code);
            at[2] = program[i].JumpTrue;
            at[3] = program[i].JumpFalse;
            BinaryPrimitives.WriteUInt32LittleEndian(at[4..], program[i].K);
        }
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("the BPF encoding here is for little-endian machines");
        return bytes;
    }

    /// <summary>Attaches the program (SO_ATTACH_FILTER); the kernel copies it, so it need live only for the call.</summary>
    public static void Attach(Socket socket, byte[] program)
    {
        const int SolSocket = 1, SoAttachFilter = 26;
        var pinned = GCHandle.Alloc(program, GCHandleType.Pinned);
        try
        {
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }, the pointer aligned to 8 bytes.
            Span<byte> fprog = stackalloc byte[16];
            fprog.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(fprog, (ushort)(program.Length / 8));
            BinaryPrimitives.WriteUInt64LittleEndian(fprog[8..], (ulong)pinned.AddrOfPinnedObject());
            socket.SetRawSocketOption(SolSocket, SoAttachFilter, fprog);
        }
        finally
        {
            pinned.Free();
        }
    }
}
