namespace PortWatch.Scanning.Permutation;

/// <summary>
/// A seeded pseudo-random bijection on [0, size), computed on the fly (masscan's idea): a
/// balanced Feistel network over the smallest 2^(2k) domain that holds the size, with
/// cycle-walking to stay inside it. No table, O(1) memory, and an exact inverse, so a reply
/// can be mapped back to its position in the scan order. Visiting positions 0, 1, 2, ...
/// spreads consecutive probes over targets and ports, which keeps the per-host rate low.
/// </summary>
public sealed class IndexPermutation
{
    private const int Rounds = 4;
    private readonly ulong[] roundKeys = new ulong[Rounds];
    private readonly int halfBits;
    private readonly ulong halfMask;

    public IndexPermutation(ulong size, ulong seed)
    {
        Size = size;
        Seed = seed;
        var bits = size <= 1 ? 2 : 64 - ulong.LeadingZeroCount(size - 1);
        if (bits % 2 == 1)
            bits++;
        halfBits = (int)Math.Max(1, bits / 2);
        halfMask = halfBits == 32 ? uint.MaxValue : (1UL << halfBits) - 1;
        var state = seed;
        for (var i = 0; i < Rounds; i++)
            roundKeys[i] = SplitMix64(ref state);
    }

    public ulong Size { get; }

    public ulong Seed { get; }

    /// <summary>The index visited at <paramref name="position"/>.</summary>
    public ulong Permute(ulong position)
    {
        if (position >= Size)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"position must be below {Size}");
        var value = position;
        do
            value = Encrypt(value);
        while (value >= Size);
        return value;
    }

    /// <summary>The position at which <paramref name="index"/> is visited.</summary>
    public ulong Unpermute(ulong index)
    {
        if (index >= Size)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index must be below {Size}");
        var value = index;
        do
            value = Decrypt(value);
        while (value >= Size);
        return value;
    }

    private ulong Encrypt(ulong value)
    {
        var left = (value >> halfBits) & halfMask;
        var right = value & halfMask;
        for (var i = 0; i < Rounds; i++)
        {
            var next = left ^ (Round(right, roundKeys[i]) & halfMask);
            left = right;
            right = next;
        }
        return (left << halfBits) | right;
    }

    private ulong Decrypt(ulong value)
    {
        var left = (value >> halfBits) & halfMask;
        var right = value & halfMask;
        for (var i = Rounds - 1; i >= 0; i--)
        {
            var previous = right ^ (Round(left, roundKeys[i]) & halfMask);
            right = left;
            left = previous;
        }
        return (left << halfBits) | right;
    }

    private static ulong Round(ulong half, ulong key)
    {
        var state = half ^ key;
        return SplitMix64(ref state);
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
