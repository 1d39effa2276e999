using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace PortWatch.Web.Inventory.Sources;

/// <summary>
/// Keeps a source's secrets (the HTTP header, AWS's secret key and session token) protected with
/// ASP.NET Core Data Protection, in the same key ring as the sign-in cookies (the database's on
/// PostgreSQL, so every node reads them). They are written, never shown again.
/// </summary>
public sealed class SourceSecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector protector = provider.CreateProtector("PortWatch.AssetSources.Secrets.v1");

    public string? Protect(SourceSecrets secrets) =>
        secrets.Header is null && secrets.SecretAccessKey is null && secrets.SessionToken is null
            ? null
            : protector.Protect(JsonSerializer.Serialize(secrets, SourceDefinition.Json));

    /// <exception cref="AssetSourceException">the key ring that protected them is gone: enter the secrets again.</exception>
    public SourceSecrets Unprotect(string? protectedSecrets)
    {
        if (string.IsNullOrEmpty(protectedSecrets))
            return new SourceSecrets();
        try
        {
            return JsonSerializer.Deserialize<SourceSecrets>(protector.Unprotect(protectedSecrets), SourceDefinition.Json) ?? new SourceSecrets();
        }
        catch (CryptographicException ex)
        {
            throw new AssetSourceException("the source's secrets cannot be read with this key ring (was the data directory or key ring replaced?): enter them again", ex);
        }
    }
}
