namespace PortWatch.Web.Inventory.Sources;

/// <summary>
/// One asset as a source lists it, before validation. <see cref="Entry"/> is how the report names
/// it (the source's own text, cut short); everything here is the remote's text.
/// </summary>
public sealed record SourceEntry(string Entry, string? Target, string? Name = null, string? Owner = null, string? Environment = null,
    IReadOnlyList<string>? Tags = null, string? ExternalId = null, string? Problem = null);

/// <summary>The source could not be read (network, HTTP status, malformed or empty answer, refused credentials): the sync changes nothing.</summary>
public sealed class AssetSourceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Reads one kind of source. Implementations never write anything; a failure is an <see cref="AssetSourceException"/>.</summary>
public interface IAssetSourceReader
{
    Data.Entities.AssetSourceKind Kind { get; }

    /// <exception cref="AssetSourceException">the source failed or answered nothing.</exception>
    Task<IReadOnlyList<SourceEntry>> ReadAsync(SourceDefinition source, CancellationToken cancellationToken);
}
