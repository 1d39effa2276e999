using System.Text;
using System.Text.RegularExpressions;

namespace PortWatch.Scanning.Probes;

/// <summary>
/// What an MQTT broker says about itself. MQTT's handshake carries no product or version, but brokers
/// publish them under <c>$SYS/broker/version</c> (mosquitto: "mosquitto version 2.0.11"), retained, so a
/// client that subscribes gets the message at once. One request, CONNECT then SUBSCRIBE (MQTT 3.1.1,
/// OASIS 2014, sections 3.1 and 3.8), sent together as brokers accept; nothing is published.
/// </summary>
public static partial class MqttFacts
{
    private const string VersionTopic = "$SYS/broker/version";

    /// <summary>CONNECT (clean session, keep-alive 60 s, client id "portwatch") and SUBSCRIBE to the version topic at QoS 0.</summary>
    public static readonly byte[] VersionRequest = BuildRequest();

    private static byte[] BuildRequest()
    {
        byte[] connect = [0x10, 0x15, 0x00, 0x04, .. "MQTT"u8, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x09, .. "portwatch"u8];
        var topic = Encoding.ASCII.GetBytes(VersionTopic);
        byte[] subscribe = [0x82, (byte)(2 + 2 + topic.Length + 1), 0x00, 0x01, 0x00, (byte)topic.Length, .. topic, 0x00];
        return [.. connect, .. subscribe];
    }

    /// <summary>The broker's product and version from its answer to <see cref="VersionRequest"/>, or null when it published none
    /// (an older broker, or one that refused the connection: CONNACK's return code is not 0).</summary>
    public static (string Product, string? Version)? BrokerVersion(ReadOnlySpan<byte> answer)
    {
        var offset = 0;
        while (offset < answer.Length)
        {
            var type = answer[offset] >> 4;
            var (length, lengthBytes) = RemainingLength(answer[(offset + 1)..]);
            if (lengthBytes == 0 || offset + 1 + lengthBytes + length > answer.Length)
                return null; // cut short or not MQTT
            var body = answer.Slice(offset + 1 + lengthBytes, length);
            if (type == 2 && (body.Length < 2 || body[1] != 0))
                return null; // CONNACK refusing us
            if (type == 3 && body.Length >= 2)
            {
                var topicLength = (body[0] << 8) | body[1];
                var qos = (answer[offset] >> 1) & 3;
                var payloadAt = 2 + topicLength + (qos > 0 ? 2 : 0);
                if (payloadAt <= body.Length && Encoding.Latin1.GetString(body.Slice(2, topicLength)) == VersionTopic)
                    return Describe(Encoding.Latin1.GetString(body[payloadAt..]));
            }
            offset += 1 + lengthBytes + length;
        }
        return null;
    }

    private static (string Product, string? Version)? Describe(string text)
    {
        text = SafeText.ForTerminal(text.Trim(), 200);
        if (text.Length == 0)
            return null;
        try
        {
            var named = ProductAndVersion().Match(text);
            return named.Success ? (named.Groups[1].Value, named.Groups[2].Value) : (text, null);
        }
        catch (RegexMatchTimeoutException)
        {
            return (text, null); // 200 characters time out only in a stalled process: the text as it is
        }
    }

    /// <summary>MQTT's variable-length integer: 7 bits a byte, at most four bytes.</summary>
    private static (int Value, int Bytes) RemainingLength(ReadOnlySpan<byte> bytes)
    {
        var value = 0;
        for (var i = 0; i < 4 && i < bytes.Length; i++)
        {
            value |= (bytes[i] & 0x7F) << (7 * i);
            if ((bytes[i] & 0x80) == 0)
                return (value, i + 1);
        }
        return (0, 0);
    }

    [GeneratedRegex(@"^(\S+) version (\S+)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex ProductAndVersion();
}
