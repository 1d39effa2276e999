namespace PortWatch.Web.Data.Entities;

/// <summary>
/// What answered on an open port. Every text here came from the scanned host: it is
/// attacker-controlled and must be encoded wherever it is shown or exported.
/// </summary>
public class ServiceInfo
{
    public const int MaxBannerLength = 2048;

    public long Id { get; set; }

    public long PortObservationId { get; set; }

    public string? Name { get; set; }

    public string? Product { get; set; }

    public string? Version { get; set; }

    public string? ExtraInfo { get; set; }

    public string? Hostname { get; set; }

    public string? OsType { get; set; }

    public string? DeviceType { get; set; }

    public List<string> Cpes { get; set; } = [];

    /// <summary>True when only a softmatch named the service (product and version unknown).</summary>
    public bool IsSoftMatch { get; set; }

    /// <summary>First bytes the service sent, at most <see cref="MaxBannerLength"/> characters (Latin-1 decoded).</summary>
    public string? Banner { get; set; }

    public string? TlsVersion { get; set; }

    public string? CertSubject { get; set; }

    public string? CertIssuer { get; set; }

    public List<string> CertSubjectAltNames { get; set; } = [];

    public DateTime? CertNotBefore { get; set; }

    public DateTime? CertNotAfter { get; set; }

    public bool? CertSelfSigned { get; set; }

    public string? CertKeyType { get; set; }

    public int? CertKeySize { get; set; }

    public int? HttpStatus { get; set; }

    public string? HttpServer { get; set; }

    public string? HttpTitle { get; set; }

    public string? HttpRedirect { get; set; }
}
