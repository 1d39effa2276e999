using PortWatch.Scanning.Permutation;

namespace PortWatch.Scanning.Tests.Permutation;

public class IndexPermutationTests
{
    public static TheoryData<ulong> Sizes()
    {
        var data = new TheoryData<ulong> { 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1000, 4095, 4096, 4097, 65535, 65536 * 3 + 1 };
        var random = new Random(20261122);
        for (var i = 0; i < 40; i++)
            data.Add((ulong)random.Next(1, 200_000));
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Permute_EverySize_VisitsEachIndexExactlyOnce(ulong size)
    {
        foreach (var seed in new ulong[] { 0, 1, 0xDEADBEEF, ulong.MaxValue })
        {
            var permutation = new IndexPermutation(size, seed);
            var seen = new bool[size];
            for (ulong position = 0; position < size; position++)
            {
                var index = permutation.Permute(position);
                Assert.True(index < size, $"index {index} out of range for size {size}");
                Assert.False(seen[index], $"index {index} visited twice (size {size}, seed {seed})");
                seen[index] = true;
                Assert.Equal(position, permutation.Unpermute(index));
            }
        }
    }

    [Fact]
    public void Permute_SameSeed_GivesSameOrderAndOtherSeedAnother()
    {
        var a = new IndexPermutation(65535 * 16, 7);
        var b = new IndexPermutation(65535 * 16, 7);
        var c = new IndexPermutation(65535 * 16, 8);

        var first = Enumerable.Range(0, 100).Select(i => a.Permute((ulong)i)).ToArray();

        Assert.Equal(first, Enumerable.Range(0, 100).Select(i => b.Permute((ulong)i)));
        Assert.NotEqual(first, Enumerable.Range(0, 100).Select(i => c.Permute((ulong)i)));
    }

    [Fact]
    public void Permute_HugeSpace_RoundTripsWithoutATable()
    {
        // An IPv4 /0 times all ports: 2^32 * 65535 indices.
        var size = (1UL << 32) * 65535;
        var permutation = new IndexPermutation(size, 42);

        foreach (var position in new[] { 0UL, 1UL, size / 2, size - 1 })
            Assert.Equal(position, permutation.Unpermute(permutation.Permute(position)));
    }

    [Fact]
    public void Permute_ConsecutivePositions_AreNotConsecutiveIndices()
    {
        var permutation = new IndexPermutation(65535, 3);
        var ascending = 0;
        for (ulong p = 0; p < 1000; p++)
        {
            if (permutation.Permute(p + 1) == permutation.Permute(p) + 1)
                ascending++;
        }
        Assert.True(ascending < 10, $"{ascending} of 1000 steps were sequential");
    }
}
