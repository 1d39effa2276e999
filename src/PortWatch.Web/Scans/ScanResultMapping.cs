using PortWatch.Scanning;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Scans;

/// <summary>
/// The one seam between the engine's types (PortWatch.Scanning, no database) and the stored ones:
/// the engine's <see cref="PortStatus"/>, <see cref="PortProtocol"/> and <see cref="ScanEngine"/>
/// are stored as <see cref="PortState"/>, <see cref="TransportProtocol"/> and
/// <see cref="ScanEngineKind"/> (their numbers are part of the schema, the engine's are not).
/// </summary>
public static class ScanResultMapping
{
    public static TransportProtocol ToTransport(PortProtocol protocol) => protocol switch
    {
        PortProtocol.Tcp => TransportProtocol.Tcp,
        PortProtocol.Udp => TransportProtocol.Udp,
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, null),
    };

    public static PortState ToState(PortStatus status) => status switch
    {
        PortStatus.Open => PortState.Open,
        PortStatus.Closed => PortState.Closed,
        PortStatus.Filtered => PortState.Filtered,
        PortStatus.OpenFiltered => PortState.OpenFiltered,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static ScanEngine ToEngine(ScanEngineKind kind) => kind switch
    {
        ScanEngineKind.Auto => ScanEngine.Auto,
        ScanEngineKind.Syn => ScanEngine.Syn,
        ScanEngineKind.Connect => ScanEngine.Connect,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
