using System.Text;
using PortWatch.Scanning.Probes;

namespace PortWatch.Scanning.Tests.Probes;

public class MqttFactsTests
{
    private static byte[] Publish(string topic, string payload)
    {
        var t = Encoding.ASCII.GetBytes(topic);
        var p = Encoding.Latin1.GetBytes(payload);
        return [0x31, (byte)(2 + t.Length + p.Length), 0x00, (byte)t.Length, .. t, .. p];
    }

    private static readonly byte[] Accepted = [0x20, 0x02, 0x00, 0x00];
    private static readonly byte[] SubAck = [0x90, 0x03, 0x00, 0x01, 0x00];

    [Fact]
    public void BrokerVersion_MosquittoAnswer_GivesProductAndVersion()
    {
        byte[] answer = [.. Accepted, .. SubAck, .. Publish("$SYS/broker/version", "mosquitto version 2.0.11")];

        Assert.Equal(("mosquitto", "2.0.11"), MqttFacts.BrokerVersion(answer));
    }

    [Fact]
    public void BrokerVersion_OtherTopicOrRefusedOrCutShort_GivesNothing()
    {
        Assert.Null(MqttFacts.BrokerVersion([.. Accepted, .. SubAck, .. Publish("$SYS/broker/uptime", "12 seconds")]));
        Assert.Null(MqttFacts.BrokerVersion([0x20, 0x02, 0x00, 0x05, .. Publish("$SYS/broker/version", "mosquitto version 2.0.11")]));
        Assert.Null(MqttFacts.BrokerVersion([.. Accepted, 0x31, 0x7F, 0x00, 0x13]));
        Assert.Null(MqttFacts.BrokerVersion([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]));
    }

    [Fact]
    public void BrokerVersion_ControlCharactersInThePayload_AreMadeHarmless()
    {
        var version = MqttFacts.BrokerVersion([.. Accepted, .. Publish("$SYS/broker/version", "evil\u001b[2J broker")]);

        Assert.NotNull(version);
        Assert.DoesNotContain('\u001b', version.Value.Product);
    }
}
