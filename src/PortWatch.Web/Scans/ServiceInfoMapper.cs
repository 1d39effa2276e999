using System.Text;
using PortWatch.Scanning.Probes;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Scans;

/// <summary>Engine service report to stored ServiceInfo, every text bounded to its column.</summary>
public static class ServiceInfoMapper
{
    public static ServiceInfo From(ServiceReport report, long observationId)
    {
        var s = report.Service;
        return new ServiceInfo
        {
            PortObservationId = observationId,
            Name = Bound(report.DisplayName, 100),
            Product = Bound(s?.Product, 200),
            Version = Bound(s?.Version, 200),
            ExtraInfo = Bound(s?.ExtraInfo, 500),
            Hostname = Bound(s?.Hostname, 255),
            OsType = Bound(s?.OsType, 100),
            DeviceType = Bound(s?.DeviceType, 100),
            Cpes = (s?.Cpes ?? []).Select(c => Bound(c, 300)!).ToList(),
            IsSoftMatch = s?.IsSoftMatch ?? false,
            Banner = report.Banner.Length == 0 ? null : Bound(Encoding.Latin1.GetString(report.Banner), ServiceInfo.MaxBannerLength),
            TlsVersion = report.Tls?.Protocol,
            CertSubject = Bound(report.Tls?.Subject, 1000),
            CertIssuer = Bound(report.Tls?.Issuer, 1000),
            CertSubjectAltNames = report.Tls?.SubjectAlternativeNames.Take(100).ToList() ?? [],
            CertNotBefore = report.Tls?.NotBefore,
            CertNotAfter = report.Tls?.NotAfter,
            CertSelfSigned = report.Tls?.SelfSigned,
            CertKeyType = report.Tls?.KeyType,
            CertKeySize = report.Tls?.KeySize,
            HttpStatus = report.Http?.Status,
            HttpServer = Bound(report.Http?.Server, 500),
            HttpTitle = Bound(report.Http?.Title, 500),
            HttpRedirect = Bound(report.Http?.RedirectTo, 2000),
        };
    }

    private static string? Bound(string? text, int length) => text is null || text.Length <= length ? text : text[..length];
}
