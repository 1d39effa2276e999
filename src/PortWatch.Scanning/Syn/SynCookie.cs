namespace PortWatch.Scanning.Syn;

/// <summary>
/// The probe's sequence number is a keyed hash of where it went (masscan's SYN cookie): a reply
/// proves it answers our probe without any table of what was sent, and stray or spoofed
/// packets fail the check.
/// </summary>
public sealed class SynCookie(ulong secret)
{
    public uint Compute(uint destination, ushort destinationPort)
    {
        var z = (((ulong)destination << 16) | destinationPort) ^ secret;
        z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCDUL;
        z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53UL;
        z ^= z >> 33;
        return (uint)z;
    }

    /// <summary>The cookie of an IPv6 probe: both halves of the address folded in.</summary>
    public uint Compute(UInt128 destination, ushort destinationPort)
    {
        var high = (ulong)(destination >> 64);
        var z = ((ulong)destination ^ (high * 0x9E3779B97F4A7C15UL) ^ secret) + destinationPort;
        z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCDUL;
        z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53UL;
        z ^= z >> 33;
        return (uint)z;
    }
}
