namespace PortWatch.Web.Data.Entities;

/// <summary>
/// A personal API token. Only a SHA-256 hash of the secret is stored; the token is shown once
/// when created. Requests made with it carry its owner's roles.
/// </summary>
public class ApiToken
{
    public int Id { get; set; }

    public required string UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>The token's first characters, to tell tokens apart in lists (not secret).</summary>
    public required string Prefix { get; set; }

    /// <summary>Hex SHA-256 of the whole token.</summary>
    public required string Hash { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? ExpiresAt { get; set; }

    public DateTime? LastUsedAt { get; set; }

    public DateTime? RevokedAt { get; set; }
}
