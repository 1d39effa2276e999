using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PortWatch.Scanning.Probes;

/// <summary>
/// Names the ONC RPC program behind a port (RFC 5531), as nmap's RPC grinder does: a port that answers RPC
/// is not necessarily rpcbind. Each known program is called with a version no server has; the one that
/// serves it answers PROG_MISMATCH with the versions it has, every other program PROG_UNAVAIL. Where no
/// program owns up, rpcbind on port 111 is asked for its map (PMAPPROC_DUMP, RFC 1833) and the port looked
/// up there. Calls carry AUTH_NULL and procedure 0 (NULL, which does nothing) or the dump, nothing else.
/// </summary>
public sealed class RpcGrinder(Func<AddressFamily, SocketType, ProtocolType, Socket>? socketFactory = null, TimeSpan? wait = null)
{
    /// <summary>Well-known program numbers and the names services go by.</summary>
    public static readonly IReadOnlyList<(uint Program, string Name)> Programs =
    [
        (100000, "rpcbind"), (100003, "nfs"), (100005, "mountd"), (100021, "nlockmgr"), (100024, "status"), (100227, "nfs_acl"),
        (100011, "rquotad"), (100001, "rstatd"), (100002, "rusersd"), (100004, "ypserv"), (100007, "ypbind"), (100009, "yppasswdd"),
        (100008, "walld"), (100012, "sprayd"), (100026, "bootparam"), (100068, "cmsd"), (100083, "ttdbserverd"), (150001, "pcnfsd"),
        (300019, "amd"), (391002, "sgi_fam"), (100099, "autofsd"), (100133, "nsm_addrand"), (100249, "snmpXdmid"), (100232, "sadmind"),
    ];

    private const uint BogusVersion = 0xFFFF_FFF0;
    private const uint RpcbindProgram = 100000;

    private readonly Func<AddressFamily, SocketType, ProtocolType, Socket> newSocket = socketFactory ?? ((f, s, p) => new Socket(f, s, p));
    private readonly TimeSpan wait = wait ?? TimeSpan.FromSeconds(2);

    /// <summary>The program at the port, with its version range ("2-4"), or null when nothing answered as RPC.</summary>
    public async Task<RpcProgram?> IdentifyAsync(IPEndPoint endpoint, bool udp, CancellationToken cancellationToken)
    {
        var found = udp ? await GrindUdpAsync(endpoint, cancellationToken) : await GrindTcpAsync(endpoint, cancellationToken);
        if (found is not null || endpoint.Port == 111)
            return found;
        var map = await DumpAsync(new IPEndPoint(endpoint.Address, 111), udp, cancellationToken);
        var entries = map.Where(m => m.Port == endpoint.Port && m.Udp == udp).ToList();
        if (entries.Count == 0)
            return null;
        var program = entries[0].Program;
        var versions = entries.Where(e => e.Program == program).Select(e => e.Version).ToList();
        return new RpcProgram(program, NameOf(program), versions.Min(), versions.Max(), FromRpcbind: true);
    }

    /// <summary>The identity an RPC port gets: the program's name, its versions, and its number, as nmap writes them.</summary>
    public static ServiceIdentity Describe(ServiceIdentity matched, RpcProgram program) => matched with
    {
        Name = program.Name,
        Version = program.Versions ?? matched.Version,
        ExtraInfo = program.FromRpcbind ? $"RPC #{program.Program}, from rpcbind's map" : $"RPC #{program.Program}",
        IsSoftMatch = false,
    };

    public static string NameOf(uint program) => Programs.FirstOrDefault(p => p.Program == program).Name ?? $"rpc-{program}";

    /// <summary>An RPC call message (RFC 5531 section 9) with AUTH_NULL credentials and verifier.</summary>
    public static byte[] Call(uint xid, uint program, uint version, uint procedure, bool recordMark)
    {
        var call = new byte[(recordMark ? 4 : 0) + 40];
        var body = call.AsSpan(recordMark ? 4 : 0);
        if (recordMark)
            BinaryPrimitives.WriteUInt32BigEndian(call, 0x8000_0000u | 40); // the last (only) fragment, 40 bytes
        BinaryPrimitives.WriteUInt32BigEndian(body, xid);
        BinaryPrimitives.WriteUInt32BigEndian(body[4..], 0); // CALL
        BinaryPrimitives.WriteUInt32BigEndian(body[8..], 2); // RPC version 2
        BinaryPrimitives.WriteUInt32BigEndian(body[12..], program);
        BinaryPrimitives.WriteUInt32BigEndian(body[16..], version);
        BinaryPrimitives.WriteUInt32BigEndian(body[20..], procedure);
        return call; // credentials and verifier: AUTH_NULL, zero length (already zero)
    }

    /// <summary>Reads a reply: whether it answers <paramref name="xid"/>, and if accepted, its status and what follows it.</summary>
    public static RpcReply? ParseReply(ReadOnlySpan<byte> reply, uint xid)
    {
        if (reply.Length < 12 || BinaryPrimitives.ReadUInt32BigEndian(reply) != xid || BinaryPrimitives.ReadUInt32BigEndian(reply[4..]) != 1)
            return null;
        if (BinaryPrimitives.ReadUInt32BigEndian(reply[8..]) != 0)
            return new RpcReply(Accepted: false, Status: 0, Rest: []); // denied: RPC all the same
        if (reply.Length < 20)
            return null;
        var verifierLength = BinaryPrimitives.ReadUInt32BigEndian(reply[16..]);
        if (verifierLength > 400 || reply.Length < 24 + (int)((verifierLength + 3) & ~3u))
            return null;
        var at = 20 + (int)((verifierLength + 3) & ~3u);
        return new RpcReply(Accepted: true, Status: BinaryPrimitives.ReadUInt32BigEndian(reply[at..]), Rest: reply[(at + 4)..].ToArray());
    }

    private static RpcProgram? Judge(RpcReply reply, uint program)
    {
        const uint Success = 0, ProgramMismatch = 2;
        if (!reply.Accepted)
            return null;
        if (reply.Status == ProgramMismatch && reply.Rest.Length >= 8)
            return new RpcProgram(program, NameOf(program), BinaryPrimitives.ReadUInt32BigEndian(reply.Rest), BinaryPrimitives.ReadUInt32BigEndian(reply.Rest.AsSpan(4)), false);
        return reply.Status == Success ? new RpcProgram(program, NameOf(program), null, null, false) : null;
    }

    private async Task<RpcProgram?> GrindTcpAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        using var socket = newSocket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (!await ConnectAsync(socket, endpoint, cancellationToken))
            return null;
        var xid = (uint)Random.Shared.Next();
        foreach (var (program, _) in Programs)
        {
            xid++;
            await socket.SendAsync(Call(xid, program, BogusVersion, 0, recordMark: true), SocketFlags.None, cancellationToken);
            if (await ReadRecordAsync(socket, cancellationToken) is not { } record)
                return null; // closed or silent: no more answers on this connection
            if (ParseReply(record, xid) is { } reply && Judge(reply, program) is { } found)
                return found;
        }
        return null;
    }

    private async Task<RpcProgram?> GrindUdpAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        using var socket = newSocket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (!await ConnectAsync(socket, endpoint, cancellationToken))
            return null;
        var first = (uint)Random.Shared.Next() & 0x7FFF_0000;
        try
        {
            for (var i = 0; i < Programs.Count; i++)
                await socket.SendAsync(Call(first + (uint)i, Programs[i].Program, BogusVersion, 0, recordMark: false), SocketFlags.None, cancellationToken);
            var buffer = new byte[9000];
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(wait);
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (n < 4)
                    continue;
                var index = BinaryPrimitives.ReadUInt32BigEndian(buffer) - first;
                if (index < Programs.Count && ParseReply(buffer.AsSpan(0, n), first + index) is { } reply && Judge(reply, Programs[(int)index].Program) is { } found)
                    return found;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (SocketException)
        {
            return null; // port unreachable: nothing there
        }
    }

    /// <summary>rpcbind's map of programs to ports (version 2's PMAPPROC_DUMP, which every rpcbind keeps serving).</summary>
    public async Task<List<RpcMapping>> DumpAsync(IPEndPoint rpcbind, bool udp, CancellationToken cancellationToken)
    {
        const uint Dump = 4;
        var xid = (uint)Random.Shared.Next();
        byte[]? answer;
        using (var socket = newSocket(rpcbind.AddressFamily, udp ? SocketType.Dgram : SocketType.Stream, udp ? ProtocolType.Udp : ProtocolType.Tcp))
        {
            if (!await ConnectAsync(socket, rpcbind, cancellationToken))
                return [];
            try
            {
                await socket.SendAsync(Call(xid, RpcbindProgram, 2, Dump, recordMark: !udp), SocketFlags.None, cancellationToken);
                answer = udp ? await ReceiveDatagramAsync(socket, cancellationToken) : await ReadRecordAsync(socket, cancellationToken);
            }
            catch (SocketException)
            {
                return [];
            }
        }
        var map = new List<RpcMapping>();
        if (answer is null || ParseReply(answer, xid) is not { Accepted: true, Status: 0 } reply)
            return map;
        var rest = reply.Rest.AsSpan();
        while (rest.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(rest) == 1 && rest.Length >= 20 && map.Count < 1000)
        {
            var protocol = BinaryPrimitives.ReadUInt32BigEndian(rest[12..]);
            map.Add(new RpcMapping(BinaryPrimitives.ReadUInt32BigEndian(rest[4..]), BinaryPrimitives.ReadUInt32BigEndian(rest[8..]),
                Udp: protocol == 17, Port: (int)BinaryPrimitives.ReadUInt32BigEndian(rest[16..])));
            rest = rest[20..];
        }
        return map;
    }

    private async Task<bool> ConnectAsync(Socket socket, IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connect.CancelAfter(wait);
        try
        {
            await socket.ConnectAsync(endpoint, connect.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task<byte[]?> ReceiveDatagramAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[65_535];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        try
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            return buffer[..n];
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>One RPC record over TCP: its fragments (each with a 4-byte mark) joined, at most 1 MB; null on silence or close.</summary>
    private async Task<byte[]?> ReadRecordAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        using var record = new MemoryStream();
        var mark = new byte[4];
        try
        {
            while (true)
            {
                if (!await ReadExactlyAsync(socket, mark, deadline.Token))
                    return null;
                var header = BinaryPrimitives.ReadUInt32BigEndian(mark);
                var length = (int)(header & 0x7FFF_FFFF);
                if (record.Length + length > 1 << 20)
                    return null;
                var fragment = new byte[length];
                if (!await ReadExactlyAsync(socket, fragment, deadline.Token))
                    return null;
                record.Write(fragment);
                if ((header & 0x8000_0000) != 0)
                    return record.ToArray();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (n == 0)
                return false;
            filled += n;
        }
        return true;
    }
}

/// <summary>An RPC program found at a port: its number, name and the versions it serves (when it said).</summary>
public sealed record RpcProgram(uint Program, string Name, uint? LowVersion, uint? HighVersion, bool FromRpcbind)
{
    public string? Versions => LowVersion is { } low && HighVersion is { } high ? low == high ? $"{low}" : $"{low}-{high}" : null;
}

public sealed record RpcReply(bool Accepted, uint Status, byte[] Rest);

public sealed record RpcMapping(uint Program, uint Version, bool Udp, int Port);
