namespace PortWatch.Web.Data.Entities;

/// <summary>What one run saw on one port, and why it believes it.</summary>
public class PortObservation
{
    public long Id { get; set; }

    public long ScanRunId { get; set; }

    public ScanRun? ScanRun { get; set; }

    public required string Address { get; set; }

    public required string AddressKey { get; set; }

    public int Port { get; set; }

    public TransportProtocol Protocol { get; set; } = TransportProtocol.Tcp;

    public PortState State { get; set; }

    /// <summary>nmap-style reason: syn-ack, reset, port-unreach (icmp 3/3), host-prohibited, no-response, conn-refused, udp-response.</summary>
    public required string Reason { get; set; }

    public int? Ttl { get; set; }

    public DateTime ObservedAt { get; set; }

    public ServiceInfo? Service { get; set; }
}
