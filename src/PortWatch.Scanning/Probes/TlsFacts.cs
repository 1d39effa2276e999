using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace PortWatch.Scanning.Probes;

/// <summary>What the TLS handshake showed: the certificate as presented (not validated) and the protocol.</summary>
public sealed record TlsFacts(
    string Protocol,
    string Subject,
    string Issuer,
    IReadOnlyList<string> SubjectAlternativeNames,
    DateTime NotBefore,
    DateTime NotAfter,
    bool SelfSigned,
    string KeyType,
    int KeySize)
{
    public static TlsFacts From(SslStream stream, X509Certificate2 certificate)
    {
        var sans = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                sans.AddRange(san.EnumerateDnsNames());
                sans.AddRange(san.EnumerateIPAddresses().Select(a => a.ToString()));
            }
        }
        var (keyType, keySize) = Key(certificate);
        return new TlsFacts(
            stream.SslProtocol.ToString(),
            certificate.Subject,
            certificate.Issuer,
            sans,
            certificate.NotBefore.ToUniversalTime(),
            certificate.NotAfter.ToUniversalTime(),
            certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData),
            keyType,
            keySize);
    }

    private static (string, int) Key(X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null)
            return ("RSA", rsa.KeySize);
        using var ec = certificate.GetECDsaPublicKey();
        if (ec is not null)
            return ("ECDSA", ec.KeySize);
        return (certificate.PublicKey.Oid.FriendlyName ?? certificate.PublicKey.Oid.Value ?? "unknown", 0);
    }
}
