using Amazon;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using PortWatch.Scanning;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Inventory.Sources;

/// <summary>
/// Reads AWS's public addresses in each configured region through the EC2 API: Elastic IPs
/// (DescribeAddresses), instances' public IPv4 and IPv6 addresses (DescribeInstances) and network
/// interfaces' public addresses (DescribeNetworkInterfaces: load balancers, NAT gateways and
/// anything else with an interface), every page (NextToken). One entry per address: the instance's
/// or interface's tags become asset tags ("key=value"), the Name tag its name, an Owner tag its
/// owner, an Environment tag its environment. Credentials come from the source (access key and
/// protected secret) or, without them, from the standard AWS chain.
/// </summary>
public sealed class AwsReader : IAssetSourceReader
{
    public AssetSourceKind Kind => AssetSourceKind.Aws;

    public async Task<IReadOnlyList<SourceEntry>> ReadAsync(SourceDefinition source, CancellationToken cancellationToken)
    {
        var settings = source.SettingsAs<AwsSourceSettings>();
        var found = new Dictionary<string, Found>(StringComparer.Ordinal);
        foreach (var region in settings.Regions.Select(r => r.Trim()).Distinct())
        {
            using var client = Client(settings, source.Secrets, region);
            try
            {
                await ReadRegionAsync(client, region, found, cancellationToken);
            }
            catch (AmazonServiceException ex)
            {
                throw new AssetSourceException(Refusal(region, ex), ex);
            }
            catch (AmazonClientException ex)
            {
                throw new AssetSourceException($"AWS {region}: {SafeText.ForTerminal(ex.Message, 300)}", ex);
            }
            catch (HttpRequestException ex)
            {
                throw new AssetSourceException($"AWS {region} could not be reached: {SafeText.ForTerminal(ex.Message, 200)}", ex);
            }
        }
        if (found.Count == 0)
            throw new AssetSourceException($"AWS lists no public address in {string.Join(", ", settings.Regions)}; an empty answer changes nothing");
        return found.Values.Select(f => f.ToEntry()).ToList();
    }

    private static AmazonEC2Client Client(AwsSourceSettings settings, SourceSecrets secrets, string region)
    {
        var config = new AmazonEC2Config { MaxErrorRetry = 2, Timeout = TimeSpan.FromSeconds(30) };
        if (string.IsNullOrWhiteSpace(settings.ServiceUrl))
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        else
        {
            config.ServiceURL = settings.ServiceUrl;
            config.AuthenticationRegion = region;
        }
        if (string.IsNullOrWhiteSpace(settings.AccessKeyId))
            return new AmazonEC2Client(config); // the standard chain: environment, profile, container or instance role
        if (string.IsNullOrEmpty(secrets.SecretAccessKey))
            throw new AssetSourceException("the source names an access key but has no secret access key");
        AWSCredentials credentials = string.IsNullOrEmpty(secrets.SessionToken)
            ? new BasicAWSCredentials(settings.AccessKeyId.Trim(), secrets.SecretAccessKey)
            : new SessionAWSCredentials(settings.AccessKeyId.Trim(), secrets.SecretAccessKey, secrets.SessionToken);
        return new AmazonEC2Client(credentials, config);
    }

    /// <summary>AWS's refusals in words that say what to do; the error code is kept, the message cut short.</summary>
    private static string Refusal(string region, AmazonServiceException ex) => ex.ErrorCode switch
    {
        "ExpiredToken" or "RequestExpired" or "ExpiredTokenException" =>
            $"AWS {region} refused the credentials: they have expired ({ex.ErrorCode}); renew the session token or the key",
        "AuthFailure" or "InvalidClientTokenId" or "SignatureDoesNotMatch" or "UnrecognizedClientException" =>
            $"AWS {region} refused the credentials ({ex.ErrorCode}): check the access key and secret",
        "UnauthorizedOperation" or "AccessDenied" or "AccessDeniedException" =>
            $"AWS {region}: the credentials may not describe addresses, instances or network interfaces ({ex.ErrorCode}); grant ec2:DescribeAddresses, ec2:DescribeInstances and ec2:DescribeNetworkInterfaces",
        _ => $"AWS {region} answered {(int)ex.StatusCode} {ex.ErrorCode}: {SafeText.ForTerminal(ex.Message, 200)}",
    };

    private static async Task ReadRegionAsync(AmazonEC2Client client, string region, Dictionary<string, Found> found, CancellationToken cancellationToken)
    {
        var addresses = await client.DescribeAddressesAsync(new DescribeAddressesRequest(), cancellationToken);
        foreach (var address in addresses.Addresses ?? [])
        {
            if (!string.IsNullOrEmpty(address.PublicIp))
                Add(found, address.PublicIp, region, address.AllocationId ?? address.PublicIp, "elastic IP", address.Tags);
        }

        string? token = null;
        do
        {
            var page = await client.DescribeInstancesAsync(new DescribeInstancesRequest { NextToken = token }, cancellationToken);
            foreach (var instance in (page.Reservations ?? []).SelectMany(r => r.Instances ?? []))
            {
                if (!string.IsNullOrEmpty(instance.PublicIpAddress))
                    Add(found, instance.PublicIpAddress, region, instance.InstanceId, "instance", instance.Tags);
                if (!string.IsNullOrEmpty(instance.Ipv6Address))
                    Add(found, instance.Ipv6Address, region, instance.InstanceId, "instance", instance.Tags);
            }
            token = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (token is not null);

        token = null;
        do
        {
            var page = await client.DescribeNetworkInterfacesAsync(new DescribeNetworkInterfacesRequest { NextToken = token }, cancellationToken);
            foreach (var nic in page.NetworkInterfaces ?? [])
            {
                var what = string.IsNullOrEmpty(nic.Description) ? $"network interface ({nic.InterfaceType})" : nic.Description;
                if (nic.Association?.PublicIp is { Length: > 0 } ip)
                    Add(found, ip, region, nic.NetworkInterfaceId, what, nic.TagSet);
                foreach (var secondary in nic.PrivateIpAddresses ?? [])
                {
                    if (secondary.Association?.PublicIp is { Length: > 0 } other)
                        Add(found, other, region, nic.NetworkInterfaceId, what, nic.TagSet);
                }
                foreach (var v6 in nic.Ipv6Addresses ?? [])
                {
                    if (!string.IsNullOrEmpty(v6.Ipv6Address))
                        Add(found, v6.Ipv6Address, region, nic.NetworkInterfaceId, what, nic.TagSet);
                }
            }
            token = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (token is not null);
    }

    /// <summary>The first sighting names the address; later ones (the instance behind an Elastic IP, its interface) add their tags.</summary>
    private static void Add(Dictionary<string, Found> found, string address, string region, string id, string what, List<Tag>? tags)
    {
        if (!found.TryGetValue(address, out var entry))
            found[address] = entry = new Found(address, region, id, what);
        foreach (var tag in tags ?? [])
        {
            if (string.IsNullOrEmpty(tag.Key))
                continue;
            entry.Tags.TryAdd(tag.Key, tag.Value ?? "");
        }
    }

    private sealed class Found(string address, string region, string id, string what)
    {
        public Dictionary<string, string> Tags { get; } = new(StringComparer.OrdinalIgnoreCase);

        public SourceEntry ToEntry()
        {
            string? Tag(string key) => Tags.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
            var name = Tag("Name") ?? $"{what} {id}";
            var tags = Tags.Where(t => !t.Key.Equals("Name", StringComparison.OrdinalIgnoreCase) && !t.Key.Equals("Owner", StringComparison.OrdinalIgnoreCase))
                .Select(t => t.Value.Length == 0 ? t.Key : $"{t.Key}={t.Value}")
                .Prepend($"aws:{region}")
                .Take(50).ToList();
            return new SourceEntry($"{address} ({what} {id}, {region})", address, name.Length > 200 ? name[..200] : name, Tag("Owner"), Tag("Environment") ?? Tag("env"), tags,
                $"{region}/{id}/{address}");
        }
    }
}
