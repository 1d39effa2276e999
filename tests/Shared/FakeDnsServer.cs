using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortWatch.Tests.Shared;

/// <summary>
/// A DNS server on 127.0.0.1 (UDP, a port of its own) that answers only well-formed DNS queries, as a real
/// one does: the version.bind question (CHAOS TXT) with "dnsmasq-2.90", anything else with REFUSED. An
/// empty or malformed datagram (a UDP port scan's probe) gets nothing back.
/// </summary>
public sealed class FakeDnsServer : IDisposable
{
    public const string Version = "dnsmasq-2.90";

    private readonly UdpClient socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource stop = new();

    public FakeDnsServer()
    {
        Port = ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                UdpReceiveResult query;
                try
                {
                    query = await socket.ReceiveAsync(stop.Token);
                }
                catch (Exception)
                {
                    return;
                }
                if (Answer(query.Buffer) is { } answer)
                    await socket.SendAsync(answer, query.RemoteEndPoint, CancellationToken.None);
            }
        });
    }

    public int Port { get; }

    private static byte[]? Answer(byte[] query)
    {
        if (query.Length < 17 || (query[2] & 0x80) != 0 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1)
            return null;
        var end = 12;
        while (end < query.Length && query[end] != 0)
            end += query[end] + 1;
        if (end + 5 > query.Length)
            return null;
        var question = query.AsSpan(12, end + 5 - 12);
        var isVersionBind = question.SequenceEqual("\u0007version\u0004bind\0\0\u0010\0\u0003"u8);
        var answer = new List<byte>(query.AsSpan(0, 2).ToArray()) { 0x85, (byte)(isVersionBind ? 0x00 : 0x05), 0, 1, 0, (byte)(isVersionBind ? 1 : 0), 0, 0, 0, 0 };
        answer.AddRange(question.ToArray());
        if (isVersionBind)
        {
            var text = Encoding.ASCII.GetBytes(Version);
            answer.AddRange([0xC0, 0x0C, 0x00, 0x10, 0x00, 0x03, 0, 0, 0, 0, 0, (byte)(text.Length + 1), (byte)text.Length]);
            answer.AddRange(text);
        }
        return [.. answer];
    }

    public void Dispose()
    {
        stop.Cancel();
        socket.Dispose();
        stop.Dispose();
    }
}
