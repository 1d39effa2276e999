using System.Collections.Concurrent;
using System.Net;
using System.Web;
using PortWatch.Tests.Shared;

namespace PortWatch.Web.Tests.Inventory;

/// <summary>
/// The EC2 Query API on 127.0.0.1, as far as asset sources use it: DescribeAddresses,
/// DescribeInstances (two pages, joined by NextToken) and DescribeNetworkInterfaces, answered
/// with the XML EC2 documents for them (namespace http://ec2.amazonaws.com/doc/2016-11-15/).
/// Requests must be signed (an AWS4-HMAC-SHA256 Authorization header with the test's access key);
/// <see cref="Expired"/> answers every call as EC2 does for expired credentials.
/// </summary>
public sealed class Ec2StandIn : LoopbackHttpServer
{
    public const string AccessKey = "AKIDPORTWATCHTEST";
    private const string Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

    public string Url => $"{Root}/";

    public bool Expired { get; set; }

    /// <summary>Each call as "Action" or "Action NextToken=..." in order.</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    protected override async Task AnswerAsync(HttpListenerContext context)
    {
        var form = HttpUtility.ParseQueryString(await BodyAsync(context.Request));
        var action = form["Action"] ?? "";
        var token = form["NextToken"];
        Calls.Enqueue(token is null ? action : $"{action} NextToken={token}");
        var (status, xml) = Answer(context.Request.Headers["Authorization"], action, token);
        await WriteAsync(context.Response, status, xml, "text/xml;charset=UTF-8");
    }

    private (int, string) Answer(string? authorization, string action, string? token)
    {
        if (authorization is null || !authorization.StartsWith("AWS4-HMAC-SHA256 Credential=" + AccessKey + "/", StringComparison.Ordinal))
            return (401, Error("AuthFailure", "AWS was not able to validate the provided access credentials"));
        if (Expired)
            return (400, Error("RequestExpired", "Request has expired."));
        return action switch
        {
            "DescribeAddresses" => (200, $"""
                <?xml version="1.0" encoding="UTF-8"?>
                <DescribeAddressesResponse xmlns="{Ns}">
                  <requestId>a1</requestId>
                  <addressesSet>
                    <item><publicIp>198.51.100.10</publicIp><allocationId>eipalloc-0a1</allocationId><domain>vpc</domain>
                      <tagSet><item><key>Name</key><value>payments-nat</value></item><item><key>Owner</key><value>payments</value></item></tagSet></item>
                    <item><publicIp>198.51.100.11</publicIp><allocationId>eipalloc-0a2</allocationId><domain>vpc</domain><instanceId>i-0web1</instanceId></item>
                  </addressesSet>
                </DescribeAddressesResponse>
                """),
            "DescribeInstances" when token is null => (200, $"""
                <?xml version="1.0" encoding="UTF-8"?>
                <DescribeInstancesResponse xmlns="{Ns}">
                  <requestId>i1</requestId>
                  <reservationSet>
                    <item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId>
                      <instancesSet>
                        <item><instanceId>i-0web1</instanceId><ipAddress>198.51.100.11</ipAddress>
                          <tagSet><item><key>Name</key><value>web-1</value></item><item><key>Owner</key><value>storefront</value></item><item><key>Environment</key><value>prod</value></item><item><key>team</key><value>web</value></item></tagSet></item>
                      </instancesSet></item>
                  </reservationSet>
                  <nextToken>page-2</nextToken>
                </DescribeInstancesResponse>
                """),
            "DescribeInstances" => (200, $"""
                <?xml version="1.0" encoding="UTF-8"?>
                <DescribeInstancesResponse xmlns="{Ns}">
                  <requestId>i2</requestId>
                  <reservationSet>
                    <item><reservationId>r-2</reservationId><ownerId>123456789012</ownerId>
                      <instancesSet>
                        <item><instanceId>i-0api2</instanceId><ipAddress>198.51.100.13</ipAddress><ipv6Address>2001:db8::13</ipv6Address>
                          <tagSet><item><key>Name</key><value>api-2</value></item><item><key>Owner</key><value>payments</value></item></tagSet></item>
                        <item><instanceId>i-0private</instanceId></item>
                      </instancesSet></item>
                  </reservationSet>
                </DescribeInstancesResponse>
                """),
            "DescribeNetworkInterfaces" => (200, $"""
                <?xml version="1.0" encoding="UTF-8"?>
                <DescribeNetworkInterfacesResponse xmlns="{Ns}">
                  <requestId>n1</requestId>
                  <networkInterfaceSet>
                    <item><networkInterfaceId>eni-0lb</networkInterfaceId><description>ELB app/storefront/50dc6c495c0c9188</description><interfaceType>interface</interfaceType>
                      <association><publicIp>198.51.100.12</publicIp><ipOwnerId>amazon</ipOwnerId></association>
                      <tagSet><item><key>Owner</key><value>storefront</value></item></tagSet></item>
                    <item><networkInterfaceId>eni-0private</networkInterfaceId><description>private only</description><interfaceType>interface</interfaceType></item>
                  </networkInterfaceSet>
                </DescribeNetworkInterfacesResponse>
                """),
            _ => (400, Error("InvalidAction", $"The action {action} is not valid for this web service.")),
        };
    }

    private static string Error(string code, string message) => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>e1</RequestID></Response>
        """;
}
