using System.Text.Json;
using System.Text.Json.Nodes;
using PortWatch.Web.Common;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Inventory.Sources;

/// <summary>An HTTP inventory: where, which format, where the list is, and which field is which.</summary>
public sealed record HttpSourceSettings
{
    public string Url { get; init; } = "";

    /// <summary>"json" or "csv".</summary>
    public string Format { get; init; } = "json";

    /// <summary>Dot-separated path to the array in a JSON body ("data.assets"); empty: the body is the array.</summary>
    public string? Items { get; init; }

    public HttpSourceMapping Mapping { get; init; } = new();
}

/// <summary>Which field (JSON: dot-separated path in each item; CSV: column name) holds what. Only the address is required.</summary>
public sealed record HttpSourceMapping
{
    public string Address { get; init; } = "address";
    public string? Name { get; init; }
    public string? Owner { get; init; }
    public string? Environment { get; init; }
    public string? Tags { get; init; }
    public string? Id { get; init; }
}

/// <summary>AWS regions to read, and optionally an access key (its secret is kept protected) and an endpoint.</summary>
public sealed record AwsSourceSettings
{
    public List<string> Regions { get; init; } = [];

    /// <summary>Empty: the standard AWS credential chain (environment, profile, instance role).</summary>
    public string? AccessKeyId { get; init; }

    /// <summary>Another EC2 endpoint (a VPC endpoint, a test double); empty: the region's own.</summary>
    public string? ServiceUrl { get; init; }
}

/// <summary>Host names resolved (A and AAAA) at each sync.</summary>
public sealed record DnsSourceSettings
{
    public List<string> Names { get; init; } = [];
}

/// <summary>A source's secrets, stored protected: the HTTP header, AWS's secret key and session token.</summary>
public sealed record SourceSecrets
{
    public string? Header { get; init; }
    public string? SecretAccessKey { get; init; }
    public string? SessionToken { get; init; }
}

/// <summary>A source as the readers see it: its kind's settings and secrets, unprotected.</summary>
public sealed record SourceDefinition(int Id, string Name, AssetSourceKind Kind, JsonObject Settings, SourceSecrets Secrets)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public T SettingsAs<T>() => Settings.Deserialize<T>(Json) ?? throw new AssetSourceException("the source's settings are empty");

    /// <summary>What is wrong with a kind's settings, by field (the API and the dialog show these).</summary>
    public static void Validate(AssetSourceKind kind, JsonObject settings, InputException.Builder errors)
    {
        try
        {
            switch (kind)
            {
                case AssetSourceKind.Http:
                    var http = settings.Deserialize<HttpSourceSettings>(Json) ?? new HttpSourceSettings();
                    if (!Uri.TryCreate(http.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                        errors.Add("settings.url", "an absolute http(s) URL is needed");
                    if (http.Format is not ("json" or "csv"))
                        errors.Add("settings.format", $"'{Scanning.SafeText.ForTerminal(http.Format, 20)}' is not json or csv");
                    if (string.IsNullOrWhiteSpace(http.Mapping?.Address))
                        errors.Add("settings.mapping.address", "name the field that holds the address or CIDR");
                    break;
                case AssetSourceKind.Aws:
                    var aws = settings.Deserialize<AwsSourceSettings>(Json) ?? new AwsSourceSettings();
                    if (aws.Regions.Count == 0 || aws.Regions.Count > 40 || aws.Regions.Any(r => string.IsNullOrWhiteSpace(r) || r.Length > 30))
                        errors.Add("settings.regions", "list 1 to 40 regions (e.g. eu-central-1)");
                    if (aws.ServiceUrl is { Length: > 0 } service && !(Uri.TryCreate(service, UriKind.Absolute, out var s) && s.Scheme is "http" or "https"))
                        errors.Add("settings.serviceUrl", "an absolute http(s) URL, or empty for the region's own endpoint");
                    break;
                case AssetSourceKind.Dns:
                    var dns = settings.Deserialize<DnsSourceSettings>(Json) ?? new DnsSourceSettings();
                    if (dns.Names.Count == 0 || dns.Names.Count > 10_000)
                        errors.Add("settings.names", "list 1 to 10,000 host names");
                    else if (dns.Names.FirstOrDefault(n => Uri.CheckHostName(n?.Trim()) != UriHostNameType.Dns) is { } bad)
                        errors.Add("settings.names", $"'{Scanning.SafeText.ForTerminal(bad, 60)}' is not a host name");
                    break;
                default:
                    errors.Add("kind", "is not http, aws or dns");
                    break;
            }
        }
        catch (JsonException ex)
        {
            errors.Add("settings", $"the settings do not fit a {kind.ToString().ToLowerInvariant()} source: {Scanning.SafeText.ForTerminal(ex.Message, 200)}");
        }
    }
}
