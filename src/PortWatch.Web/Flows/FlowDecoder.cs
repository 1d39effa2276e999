using System.Buffers.Binary;
using System.Net;

namespace PortWatch.Web.Flows;

/// <summary>
/// Decodes NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export packets into
/// <see cref="FlowRecord"/>s, keeping v9 and IPFIX templates per exporter, observation domain
/// (v9: source id) and template id, with expiry. Options templates are recognised and skipped;
/// their data sets are skipped too. Every length is checked against the packet before it is
/// read, sets of length zero end the packet, and templates are bounded in number and size, so a
/// hostile packet is dropped and counted, never a crash, a loop or an unbounded allocation.
///
/// Concurrency: one decoder per receive loop (it is not thread-safe); the loop owns it.
/// </summary>
public sealed class FlowDecoder(TimeProvider clock)
{
    /// <summary>Templates not refreshed for this long are forgotten (exporters resend them every few minutes; RFC 7011 §8.4).</summary>
    public static readonly TimeSpan TemplateLifetime = TimeSpan.FromMinutes(30);

    public const int MaxTemplatesPerExporter = 1024;
    public const int MaxFieldsPerTemplate = 256;

    // IPFIX information elements (the same numbers as NetFlow v9's field types for these).
    private const ushort OctetDeltaCount = 1, PacketDeltaCount = 2, ProtocolIdentifier = 4, TcpControlBits = 6, SourceTransportPort = 7, SourceIPv4Address = 8,
        DestinationTransportPort = 11, DestinationIPv4Address = 12, SourceIPv6Address = 27, DestinationIPv6Address = 28;
    private const ushort VariableLength = 65535;

    private readonly record struct TemplateKey(IPAddress Exporter, uint Domain, ushort Id);

    /// <summary>A template's fields; <see cref="MinimumLength"/> is its record's size with every variable-length field empty.</summary>
    private sealed record Template(Field[] Fields, int MinimumLength, bool IsOptions)
    {
        public DateTime SeenAt { get; set; }
    }

    private readonly record struct Field(ushort Type, ushort Length, bool Enterprise);

    private readonly Dictionary<TemplateKey, Template> templates = new();
    private readonly Dictionary<IPAddress, int> templateCounts = new();

    /// <summary>Templates held now (for the live view).</summary>
    public int TemplateCount => templates.Count;

    public int TemplatesOf(IPAddress exporter) => templateCounts.GetValueOrDefault(exporter);

    /// <summary>
    /// Decodes one packet, appending its flows to <paramref name="flows"/>. Returns why (part of)
    /// the packet was dropped, or None; flows decoded before a problem are kept.
    /// </summary>
    public FlowDrop Decode(ReadOnlySpan<byte> packet, IPAddress exporter, List<FlowRecord> flows)
    {
        if (packet.Length < 2)
            return FlowDrop.Truncated;
        return BinaryPrimitives.ReadUInt16BigEndian(packet) switch
        {
            5 => DecodeV5(packet, flows),
            9 => DecodeV9(packet, exporter, flows),
            10 => DecodeIpfix(packet, exporter, flows),
            _ => FlowDrop.UnknownVersion,
        };
    }

    private static FlowDrop DecodeV5(ReadOnlySpan<byte> packet, List<FlowRecord> flows)
    {
        const int header = 24, record = 48;
        if (packet.Length < header)
            return FlowDrop.Truncated;
        var count = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (count is 0 or > 30)
            return FlowDrop.Malformed;
        if (packet.Length < header + count * record)
            return FlowDrop.Truncated;
        for (var i = 0; i < count; i++)
        {
            var r = packet.Slice(header + i * record, record);
            flows.Add(new FlowRecord(
                FlowRecord.FromV4(BinaryPrimitives.ReadUInt32BigEndian(r)), FlowRecord.FromV4(BinaryPrimitives.ReadUInt32BigEndian(r[4..])),
                BinaryPrimitives.ReadUInt16BigEndian(r[32..]), BinaryPrimitives.ReadUInt16BigEndian(r[34..]), r[38], r[37],
                BinaryPrimitives.ReadUInt32BigEndian(r[16..]), BinaryPrimitives.ReadUInt32BigEndian(r[20..])));
        }
        return FlowDrop.None;
    }

    private FlowDrop DecodeV9(ReadOnlySpan<byte> packet, IPAddress exporter, List<FlowRecord> flows)
    {
        const int header = 20;
        if (packet.Length < header)
            return FlowDrop.Truncated;
        var domain = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
        return DecodeSets(packet[header..], exporter, domain, ipfix: false, flows);
    }

    private FlowDrop DecodeIpfix(ReadOnlySpan<byte> packet, IPAddress exporter, List<FlowRecord> flows)
    {
        const int header = 16;
        if (packet.Length < header)
            return FlowDrop.Truncated;
        var length = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (length < header)
            return FlowDrop.Malformed;
        if (length > packet.Length)
            return FlowDrop.Truncated;
        var domain = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
        return DecodeSets(packet[header..length], exporter, domain, ipfix: true, flows);
    }

    /// <summary>v9 flowsets and IPFIX sets share a layout: id (2), length (2, including these four bytes), content.</summary>
    private FlowDrop DecodeSets(ReadOnlySpan<byte> sets, IPAddress exporter, uint domain, bool ipfix, List<FlowRecord> flows)
    {
        var (templateSet, optionsSet) = ipfix ? ((ushort)2, (ushort)3) : ((ushort)0, (ushort)1);
        var worst = FlowDrop.None;
        while (sets.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(sets);
            var length = BinaryPrimitives.ReadUInt16BigEndian(sets[2..]);
            if (length < 4)
                return Worse(worst, FlowDrop.Malformed); // a zero length would never advance
            if (length > sets.Length)
                return Worse(worst, FlowDrop.Truncated);
            var content = sets[4..length];
            FlowDrop result;
            if (id == templateSet)
                result = ReadTemplates(content, exporter, domain, ipfix, options: false);
            else if (id == optionsSet)
                result = ReadTemplates(content, exporter, domain, ipfix, options: true);
            else if (id >= 256)
                result = ReadData(content, new TemplateKey(exporter, domain, id), ipfix, flows);
            else
                result = FlowDrop.Malformed; // reserved set ids
            worst = Worse(worst, result);
            sets = sets[length..];
        }
        return worst;
    }

    private static FlowDrop Worse(FlowDrop a, FlowDrop b) => a == FlowDrop.None ? b : a;

    private FlowDrop ReadTemplates(ReadOnlySpan<byte> content, IPAddress exporter, uint domain, bool ipfix, bool options)
    {
        // Templates are read until fewer bytes remain than a template header (what is left is padding).
        while (content.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(content);
            var fieldCount = BinaryPrimitives.ReadUInt16BigEndian(content[2..]);
            var position = 4;
            int scopeCount = 0;
            if (options)
            {
                if (ipfix)
                {
                    // IPFIX options template: id, field count, scope field count, then the fields.
                    if (content.Length < 6)
                        return FlowDrop.Truncated;
                    scopeCount = BinaryPrimitives.ReadUInt16BigEndian(content[4..]);
                    position = 6;
                }
                else
                {
                    // v9 options template: id, option scope length (bytes), option length (bytes), then scope and option fields.
                    if (content.Length < 6)
                        return FlowDrop.Truncated;
                    var scopeBytes = BinaryPrimitives.ReadUInt16BigEndian(content[2..]);
                    var optionBytes = BinaryPrimitives.ReadUInt16BigEndian(content[4..]);
                    if (scopeBytes % 4 != 0 || optionBytes % 4 != 0)
                        return FlowDrop.Malformed;
                    fieldCount = (ushort)((scopeBytes + optionBytes) / 4);
                    position = 6;
                }
            }
            if (id < 256)
                return FlowDrop.Malformed;
            if (ipfix && !options && fieldCount == 0)
            {
                // A template withdrawal (RFC 7011 §8.1).
                Forget(new TemplateKey(exporter, domain, id));
                content = content[position..];
                continue;
            }
            if (fieldCount == 0 || fieldCount > MaxFieldsPerTemplate || scopeCount > fieldCount)
                return FlowDrop.Malformed;
            var fields = new Field[fieldCount];
            var fixedLength = 0;
            var variable = false;
            for (var i = 0; i < fieldCount; i++)
            {
                if (content.Length < position + 4)
                    return FlowDrop.Truncated;
                var type = BinaryPrimitives.ReadUInt16BigEndian(content[position..]);
                var length = BinaryPrimitives.ReadUInt16BigEndian(content[(position + 2)..]);
                position += 4;
                var enterprise = ipfix && (type & 0x8000) != 0;
                if (enterprise)
                {
                    if (content.Length < position + 4)
                        return FlowDrop.Truncated;
                    position += 4; // the enterprise number: such fields are carried, not read
                    type &= 0x7fff;
                }
                if (length == VariableLength)
                {
                    if (!ipfix)
                        return FlowDrop.Malformed;
                    variable = true;
                }
                else
                {
                    if (length == 0)
                        return FlowDrop.Malformed;
                    fixedLength += length;
                }
                fields[i] = new Field(type, length, enterprise);
            }
            if (fixedLength > ushort.MaxValue)
                return FlowDrop.Malformed;
            var key = new TemplateKey(exporter, domain, id);
            if (!templates.ContainsKey(key))
            {
                var held = templateCounts.GetValueOrDefault(exporter);
                if (held >= MaxTemplatesPerExporter)
                {
                    Expire(exporter);
                    held = templateCounts.GetValueOrDefault(exporter);
                    if (held >= MaxTemplatesPerExporter)
                        return FlowDrop.TooManyTemplates;
                }
                templateCounts[exporter] = held + 1;
            }
            var minimum = fixedLength + (variable ? fields.Count(f => f.Length == VariableLength) : 0);
            templates[key] = new Template(fields, minimum, options) { SeenAt = clock.GetUtcNow().UtcDateTime };
            content = content[position..];
        }
        return FlowDrop.None;
    }

    private FlowDrop ReadData(ReadOnlySpan<byte> content, TemplateKey key, bool ipfix, List<FlowRecord> flows)
    {
        if (!templates.TryGetValue(key, out var template))
            return FlowDrop.NoTemplate;
        if (clock.GetUtcNow().UtcDateTime - template.SeenAt > TemplateLifetime)
        {
            Forget(key);
            return FlowDrop.NoTemplate;
        }
        if (template.IsOptions)
            return FlowDrop.None; // options data (sampling rates, interface names): not flows
        var minimum = template.MinimumLength;
        if (minimum == 0)
            return FlowDrop.Malformed;
        // Records are read while a whole one can still fit; fewer bytes than that at the end are padding (RFC 3954 §5.3, RFC 7011 §3.3.1).
        while (content.Length >= minimum)
        {
            UInt128 source = 0, destination = 0;
            ushort sourcePort = 0, destinationPort = 0;
            byte protocol = 0, flags = 0;
            ulong packets = 0, bytes = 0;
            var position = 0;
            foreach (var field in template.Fields)
            {
                int length = field.Length;
                if (length == VariableLength)
                {
                    if (position + 1 > content.Length)
                        return FlowDrop.Truncated;
                    length = content[position++];
                    if (length == 255)
                    {
                        if (position + 2 > content.Length)
                            return FlowDrop.Truncated;
                        length = BinaryPrimitives.ReadUInt16BigEndian(content[position..]);
                        position += 2;
                    }
                }
                if (position + length > content.Length)
                    return FlowDrop.Truncated;
                var value = content.Slice(position, length);
                position += length;
                if (field.Enterprise)
                    continue;
                switch (field.Type)
                {
                    case SourceIPv4Address when length == 4: source = FlowRecord.FromV4(BinaryPrimitives.ReadUInt32BigEndian(value)); break;
                    case DestinationIPv4Address when length == 4: destination = FlowRecord.FromV4(BinaryPrimitives.ReadUInt32BigEndian(value)); break;
                    case SourceIPv6Address when length == 16: source = FlowRecord.FromV6(value); break;
                    case DestinationIPv6Address when length == 16: destination = FlowRecord.FromV6(value); break;
                    case SourceTransportPort when length == 2: sourcePort = BinaryPrimitives.ReadUInt16BigEndian(value); break;
                    case DestinationTransportPort when length == 2: destinationPort = BinaryPrimitives.ReadUInt16BigEndian(value); break;
                    case ProtocolIdentifier when length == 1: protocol = value[0]; break;
                    case TcpControlBits when length is 1 or 2: flags = value[length - 1]; break;
                    case PacketDeltaCount: packets = Unsigned(value); break;
                    case OctetDeltaCount: bytes = Unsigned(value); break;
                }
            }
            if (position == 0)
                return FlowDrop.Malformed;
            if (source != 0 || destination != 0)
                flows.Add(new FlowRecord(source, destination, sourcePort, destinationPort, protocol, flags, packets, bytes));
            content = content[position..];
        }
        return FlowDrop.None;
    }

    /// <summary>A counter of 1 to 8 bytes (IPFIX allows reduced-size encoding, RFC 7011 §6.2).</summary>
    private static ulong Unsigned(ReadOnlySpan<byte> value)
    {
        if (value.Length is 0 or > 8)
            return 0;
        ulong result = 0;
        foreach (var b in value)
            result = (result << 8) | b;
        return result;
    }

    private void Forget(TemplateKey key)
    {
        if (templates.Remove(key))
            templateCounts[key.Exporter] = Math.Max(0, templateCounts.GetValueOrDefault(key.Exporter) - 1);
    }

    /// <summary>Drops the exporter's templates that have not been refreshed within <see cref="TemplateLifetime"/>.</summary>
    public void Expire(IPAddress exporter)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - TemplateLifetime;
        foreach (var key in templates.Where(t => t.Key.Exporter.Equals(exporter) && t.Value.SeenAt < cutoff).Select(t => t.Key).ToList())
            Forget(key);
    }
}
