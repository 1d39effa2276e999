using System.Diagnostics;
using System.Net;
using PortWatch.Web.Flows;

// Decodes packets shaped like an edge router's export (IPFIX with 40 IPv4 records of 13 fields, NetFlow v9 with
// 30, NetFlow v5 with 30) on one thread and prints flows per second and bytes allocated per flow.
var seconds = args.Length > 0 && double.TryParse(args[0], System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 3;
var exporter = IPAddress.Parse("192.0.2.1");
var packets = new Dictionary<string, (byte[] Template, byte[] Data, int Flows)>
{
    ["IPFIX (40 flows/packet)"] = Ipfix(40),
    ["NetFlow v9 (30 flows/packet)"] = V9(30),
    ["NetFlow v5 (30 flows/packet)"] = ([], V5(30), 30),
};
Console.WriteLine($"{"format",-32} {"flows/s",14} {"bytes/flow",11}");
foreach (var (name, (template, data, perPacket)) in packets)
{
    var decoder = new FlowDecoder(TimeProvider.System);
    var flows = new List<FlowRecord>(64);
    if (template.Length > 0)
        decoder.Decode(template, exporter, flows);
    for (var i = 0; i < 10_000; i++) // warm-up (JIT)
    {
        flows.Clear();
        decoder.Decode(data, exporter, flows);
    }
    long decoded = 0;
    var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        for (var i = 0; i < 1000; i++)
        {
            flows.Clear();
            decoder.Decode(data, exporter, flows);
            decoded += flows.Count;
        }
    }
    watch.Stop();
    var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    if (decoded != (long)(decoded / perPacket) * perPacket)
        throw new InvalidOperationException("a packet decoded to the wrong number of flows");
    Console.WriteLine($"{name,-32} {decoded / watch.Elapsed.TotalSeconds,14:N0} {(double)allocated / decoded,11:N2}");
}

static (byte[], byte[], int) Ipfix(int count)
{
    (int Type, int Length)[] fields = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 8), (1, 8), (10, 4), (14, 4), (152, 8), (153, 8), (5, 1)];
    var template = new Writer().U16(10).U16(0).U32(0).U32(1).U32(1).U16(2).U16(8 + fields.Length * 4).U16(256).U16(fields.Length);
    foreach (var (type, length) in fields)
        template.U16(type).U16(length);
    var data = new Writer().U16(10).U16(0).U32(0).U32(2).U32(1).U16(256).U16(4 + count * 55);
    for (var i = 0; i < count; i++)
        data.U32(0xC6336400u + (uint)i).U32(0xCB007100u + (uint)(i % 200)).U16(443).U16(40000 + i).U8(6).U8(0x1b).U64(12).U64(9000).U32(1).U32(2).U64(1).U64(2).U8(0);
    return (template.Message(), data.Message(), count);
}

static (byte[], byte[], int) V9(int count)
{
    (int Type, int Length)[] fields = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 4), (1, 4), (21, 4), (22, 4)];
    var template = new Writer().U16(9).U16(1).U32(0).U32(0).U32(1).U32(7).U16(0).U16(8 + fields.Length * 4).U16(256).U16(fields.Length);
    foreach (var (type, length) in fields)
        template.U16(type).U16(length);
    var data = new Writer().U16(9).U16(count).U32(0).U32(0).U32(2).U32(7).U16(256).U16(4 + count * 30);
    for (var i = 0; i < count; i++)
        data.U32(0xC6336400u + (uint)i).U32(0xCB007100u).U16(22).U16(50000 + i).U8(6).U8(0x12).U32(5).U32(400).U32(1000).U32(2000);
    return (template.Bytes(), data.Bytes(), count);
}

static byte[] V5(int count)
{
    var p = new Writer().U16(5).U16(count).U32(0).U32(0).U32(0).U32(0).U32(0);
    for (var i = 0; i < count; i++)
        p.U32(0xC6336400u + (uint)i).U32(0xCB007100u).U32(0).U16(1).U16(2).U32(10).U32(1500).U32(100).U32(200).U16(443).U16(50000 + i).U8(0).U8(0x1b).U8(6).U8(0).U16(0).U16(0).U8(24).U8(24).U16(0);
    return p.Bytes();
}

sealed class Writer
{
    private readonly List<byte> bytes = [];
    public Writer U8(int v) { bytes.Add((byte)v); return this; }
    public Writer U16(int v) { bytes.Add((byte)(v >> 8)); bytes.Add((byte)v); return this; }
    public Writer U32(uint v) => U16((int)(v >> 16)).U16((int)(v & 0xffff));
    public Writer U64(ulong v) => U32((uint)(v >> 32)).U32((uint)v);
    public byte[] Bytes() => [.. bytes];

    /// <summary>An IPFIX message with its length field filled in.</summary>
    public byte[] Message()
    {
        var b = Bytes();
        b[2] = (byte)(b.Length >> 8);
        b[3] = (byte)b.Length;
        return b;
    }
}
