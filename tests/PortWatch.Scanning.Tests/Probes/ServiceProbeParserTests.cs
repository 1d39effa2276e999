using System.Text;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Targets;
using Xunit.Abstractions;

namespace PortWatch.Scanning.Tests.Probes;

public class ServiceProbeParserTests(ITestOutputHelper output)
{
    // Representative lines in nmap-service-probes syntax, written for these tests.
    private const string Sample = """
        # comment
        Exclude T:9100-9107
        Probe TCP NULL q||
        totalwaitms 6000
        tcpwrappedms 3000
        match ssh m|^SSH-([\d.]+)-OpenSSH_([\w._-]+)[ -]{1,2}Debian[ -_]([^\r\n]+)\r?\n| p/OpenSSH/ v/$2 Debian $3/ i/protocol $1/ o/Linux/ cpe:/a:openbsd:openssh:$2/ cpe:/o:linux:linux_kernel/a
        match ftp m|^220 \(vsFTPd ([-.\w]+)\)\r\n| p/vsftpd/ v/$1/ cpe:/a:vsftpd:vsftpd:$1/
        match mysql m|^.\0\0\0\x0a(5\.[-_~.+\w]+)\0|s p/MySQL/ v/$1/ cpe:/a:mysql:mysql:$1/
        match echo-utf16 m|^H\0e\0l\0l\0o\0 \0(.+)$|s p/Greeter/ v/$P(1)/
        match lsx m|^<LSX version=\"([\d,]+)\"/>| p/EA Origin/ v/$SUBST(1,",",".")/
        match binproto m|^\x42\x50(..)|s p/Binary Proto/ v/$I(1,">")/ i/le $I(1,"<")/
        match posix m|^[[:alpha:]]+ ([[:digit:]]+)$| p/Posix/ v/$1/
        match named m|^name=(?P<n>\w+);again=(?P=n)$| p/Named/ v/$1/
        softmatch ftp m|^220[ -]|
        match bad m|^(?R)| p/unsupported/
        Probe TCP GetRequest q|GET / HTTP/1.0\r\n\r\n|
        rarity 1
        ports 80-85,8000-8010,8080
        sslports 443,8443
        fallback GenericLines
        match http m|^HTTP/1\.[01] \d\d\d .*\r\nServer: nginx/([\d.]+)\r\n|s p/nginx/ v/$1/ cpe:/a:igor_sysoev:nginx:$1/
        softmatch http m|^HTTP/1\.[01] \d\d\d|
        Probe TCP GenericLines q|\r\n\r\n|
        rarity 1
        match redis m|^-ERR unknown command| p/Redis key-value store/
        Probe UDP DNSVersionBindReq q|\0\x06\x01\0\0\x01\0\0\0\0\0\0\x07version\x04bind\0\0\x10\0\x03|
        rarity 1
        ports 53
        unknowndirective 1
        rarity 12
        """;

    private static ServiceProbeDatabase Database() => ServiceProbeParser.Parse(new StringReader(Sample), "sample");

    private static ServiceIdentity? MatchNull(string banner) =>
        ServiceMatcher.Match(Database(), Database().Find(PortProtocol.Tcp, "NULL")!, Encoding.Latin1.GetBytes(banner));

    [Fact]
    public void Parse_Sample_ReadsProbesAndTheirDirectives()
    {
        var db = Database();

        Assert.Equal(["NULL", "GetRequest", "GenericLines", "DNSVersionBindReq"], db.Probes.Select(p => p.Name));
        var get = db.Find(PortProtocol.Tcp, "GetRequest")!;
        Assert.Equal("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), get.Payload);
        Assert.Contains((ushort)8005, get.Ports);
        Assert.Contains((ushort)8443, get.SslPorts);
        Assert.Equal(["GenericLines"], get.Fallbacks);
        Assert.Equal(6000, db.Find(PortProtocol.Tcp, "NULL")!.TotalWaitMs);
        Assert.Equal(PortProtocol.Udp, db.Probes[3].Protocol);
        Assert.Equal(30, db.Probes[3].Payload.Length);
        Assert.Equal([(ushort)9100, 9101, 9102, 9103, 9104, 9105, 9106, 9107], db.Excluded.Tcp);
    }

    [Fact]
    public void Parse_UnusableLines_AreReportedOnceWithLineNumbersAndSkipped()
    {
        var db = Database();

        Assert.Equal(3, db.Warnings.Count);
        Assert.Contains(db.Warnings, w => w.Line == 15 && w.Message.Contains("recursive", StringComparison.Ordinal));
        Assert.Contains(db.Warnings, w => w.Message.Contains("unknown directive 'unknowndirective'", StringComparison.Ordinal));
        Assert.Contains(db.Warnings, w => w.Message.Contains("'12' is not a number from 1 to 9", StringComparison.Ordinal));
        Assert.Equal(12, db.MatchCount);
    }

    [Fact]
    public void Match_OpenSshBanner_GivesProductVersionInfoAndCpes()
    {
        var identity = MatchNull("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n");

        Assert.NotNull(identity);
        Assert.Equal("ssh", identity.Name);
        Assert.Equal("OpenSSH", identity.Product);
        Assert.Equal("9.2p1 Debian 2+deb12u10", identity.Version);
        Assert.Equal("protocol 2.0", identity.ExtraInfo);
        Assert.Equal("Linux", identity.OsType);
        Assert.Equal(["cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"], identity.Cpes);
        Assert.False(identity.IsSoftMatch);
    }

    [Fact]
    public void Match_BinaryMySqlGreeting_MatchesByteForByte()
    {
        byte[] greeting = [0x4a, 0x00, 0x00, 0x00, 0x0a, .. "5.7.42-log"u8, 0x00, 0x08, 0x00, 0x00, 0x00, 0xfe, 0xff, 0x81];

        var identity = ServiceMatcher.Match(Database(), Database().Find(PortProtocol.Tcp, "NULL")!, greeting);

        Assert.Equal(("mysql", "MySQL", "5.7.42-log"), (identity!.Name, identity.Product, identity.Version));
    }

    [Fact]
    public void Match_Helpers_PrintableSubstAndUnpack()
    {
        Assert.Equal("World", MatchNull("H\0e\0l\0l\0o\0 \0W\0o\0r\0l\0d\0")!.Version);
        Assert.Equal("10.3.1", MatchNull("<LSX version=\"10,3,1\"/>")!.Version);
        var unpacked = MatchNull("BP\x01\x02");
        Assert.Equal("258", unpacked!.Version);
        Assert.Equal("le 513", unpacked.ExtraInfo);
    }

    [Fact]
    public void Match_PosixClassesAndNamedGroups_AreTranslated()
    {
        Assert.Equal("42", MatchNull("answer 42")!.Version);
        Assert.Equal("abc", MatchNull("name=abc;again=abc")!.Version);
        Assert.Null(MatchNull("name=abc;again=xyz"));
    }

    [Fact]
    public void Match_OnlySoftmatch_NamesServiceWithoutVersion()
    {
        var identity = MatchNull("220-Welcome to some FTP server\r\n");

        Assert.Equal("ftp", identity!.Name);
        Assert.True(identity.IsSoftMatch);
        Assert.Null(identity.Version);
    }

    [Fact]
    public void Match_ProbeWithoutOwnMatch_FallsBackToFallbackAndNullMatches()
    {
        var db = Database();
        var get = db.Find(PortProtocol.Tcp, "GetRequest")!;

        var redis = ServiceMatcher.Match(db, get, "-ERR unknown command 'GET'\r\n"u8);
        var ftp = ServiceMatcher.Match(db, get, "220 (vsFTPd 3.0.3)\r\n"u8);
        var nginx = ServiceMatcher.Match(db, get, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n"u8);

        Assert.Equal("redis", redis!.Name);
        Assert.Equal(("vsftpd", "3.0.3"), (ftp!.Product, ftp.Version));
        Assert.Equal(("nginx", "1.22.1", "cpe:/a:igor_sysoev:nginx:1.22.1"), (nginx!.Product, nginx.Version, nginx.Cpes[0]));
    }

    [Theory]
    [InlineData(@"^a\w+$", "^a[A-Za-z0-9_]+$")]
    [InlineData(@"[\w.-]+", "[A-Za-z0-9_.-]+")]
    [InlineData(@"[^]]+", @"[^\]]+")]
    [InlineData(@"[a-z-[]", @"[a-z-\[]")]
    [InlineData(@"\x{41}", @"\x41")]
    [InlineData(@"\h+", @"[ \t]+")]
    [InlineData(@"a++b*+", "a+b*")]
    [InlineData(@"\Q.*\E", @"\.\*")]
    public void TranslatePattern_PcreConstructs_BecomeDotNetEquivalents(string pcre, string expected)
    {
        Assert.Equal(expected, PcreTranslator.TranslatePattern(pcre));
    }

    [Fact]
    public void Match_PathologicalBanner_TimesOutInsteadOfHanging()
    {
        var db = ServiceProbeParser.Parse(new StringReader("Probe TCP NULL q||\nmatch evil m|^(a+)+$| p/Evil/\n"), "evil");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var identity = ServiceMatcher.Match(db, db.Probes[0], Encoding.Latin1.GetBytes(new string('a', 40) + "!"));

        Assert.Null(identity);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void BuiltIn_Database_ParsesWithoutWarningsAndCoversTheRequiredServices()
    {
        var db = ProbeDatabases.BuiltIn();

        Assert.Empty(db.Warnings);
        var services = db.Probes.SelectMany(p => p.Matches).Select(m => m.Service).ToHashSet();
        string[] required = ["http", "ssh", "ftp", "smtp", "pop3", "imap", "telnet", "redis", "mysql", "postgresql",
            "mongodb", "memcached", "ms-wbt-server", "microsoft-ds", "vnc"];
        Assert.Superset(required.ToHashSet(), services);
        string[] udp = ["domain", "ntp", "snmp", "memcached", "upnp", "tftp", "netbios-ns", "isakmp", "openvpn", "sip", "coap", "mdns",
            "ws-discovery", "asf-rmcp", "ms-sql-m", "ldap", "ubiquiti-discovery", "chargen", "qotd"];
        Assert.Superset(udp.ToHashSet(), db.Probes.Where(p => p.Protocol == PortProtocol.Udp).SelectMany(p => p.Matches).Select(m => m.Service).ToHashSet());
        var products = db.Probes.SelectMany(p => p.Matches).Select(m => m.Version.Product).ToHashSet();
        Assert.Contains("Elasticsearch REST API", products);
        Assert.Contains("Docker Engine API", products);
    }

    [Theory]
    [InlineData("NULL", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n", "ssh", "OpenSSH", "9.2p1 Debian 2+deb12u10")]
    [InlineData("NULL", "220 (vsFTPd 3.0.3)\r\n", "ftp", "vsftpd", "3.0.3")]
    [InlineData("NULL", "220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n", "smtp", "Postfix smtpd", null)]
    [InlineData("NULL", "RFB 003.008\n", "vnc", "VNC", null)]
    [InlineData("GetRequest", "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: x\r\n\r\n<html>", "http", "nginx", "1.22.1")]
    [InlineData("GetRequest", "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n\r\n", "http", "SimpleHTTPServer", "0.6")]
    [InlineData("GetRequest", "HTTP/1.1 404 Not Found\r\nApi-Version: 1.43\r\nContent-Type: application/json\r\nServer: Docker/24.0.5 (linux)\r\n\r\n", "http", "Docker Engine API", "24.0.5")]
    [InlineData("GetRequest", "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\n  \"name\" : \"n1\",\n  \"cluster_name\" : \"prod\",\n  \"version\" : {\n    \"number\" : \"7.17.9\"", "http", "Elasticsearch REST API", "7.17.9")]
    [InlineData("RedisInfo", "$1234\r\n# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:0\r\n", "redis", "Redis key-value store", "7.0.15")]
    [InlineData("NULL", "@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\n", "rsync", "rsync", null)]
    [InlineData("GetRequest", "HTTP/1.1 400 Bad Request\r\nServer: squid/5.7\r\nMime-Version: 1.0\r\n\r\n", "http-proxy", "Squid http proxy", "5.7")]
    [InlineData("GetRequest", "HTTP/1.0 400 Bad Request\r\nServer: tinyproxy/1.11.1\r\nContent-Type: text/html\r\n\r\n", "http-proxy", "tinyproxy", "1.11.1")]
    [InlineData("GetRequest", "HTTP/1.1 200 OK\r\nContent-Language: en_US\r\nServer: CUPS/2.4 IPP/2.1\r\n\r\n", "ipp", "CUPS", "2.4")]
    [InlineData("IRCRegister", ":irc.example.net NOTICE * :*** Looking up your hostname\r\n:irc.example.net 001 portwatch :Welcome\r\n:irc.example.net 004 portwatch irc.example.net ngircd-26.1 abBcCFiIoqrRswx abehiIklmMnoOPqQrRstvVz\r\n", "irc", "ngIRCd", "26.1")]
    [InlineData("IRCRegister", ":irc.example.net 004 portwatch irc.example.net solanum-1.0-dev DGIMQRSZaghilopsuwz CFILMPQRSTbcefgijklmnopqrstuvz bkloveqjfI\r\n", "irc", "solanum", "1.0-dev")]
    [InlineData("GitUploadPack", "0047ERR access denied or repository not exported: /portwatch", "git", "Git daemon", null)]
    [InlineData("MemcachedVersion", "VERSION 1.6.18\r\n", "memcached", "Memcached", "1.6.18")]
    public void BuiltIn_RecordedAnswers_AreIdentified(string probeName, string answer, string service, string product, string? version)
    {
        var db = ProbeDatabases.BuiltIn();
        var bytes = System.Text.Encoding.Latin1.GetBytes(System.Text.RegularExpressions.Regex.Unescape(answer));

        var identity = ServiceMatcher.Match(db, db.Find(PortProtocol.Tcp, probeName)!, bytes);

        Assert.NotNull(identity);
        Assert.Equal((service, product, version), (identity.Name, identity.Product, identity.Version));
    }

    [Fact]
    public void BuiltIn_BinaryAnswers_PostgresMysqlRdpSmb_AreIdentified()
    {
        var db = ProbeDatabases.BuiltIn();
        ServiceIdentity? Match(string probe, byte[] answer) => ServiceMatcher.Match(db, db.Find(PortProtocol.Tcp, probe)!, answer);

        byte[] postgresSasl = [(byte)'R', 0, 0, 0, 0x17, 0, 0, 0, 0x0a, .. "SCRAM-SHA-256"u8, 0, 0];
        byte[] postgresError = [(byte)'E', 0, 0, 0, 0x60, (byte)'S', .. "FATAL"u8, 0, (byte)'V', .. "FATAL"u8, 0, (byte)'C', .. "28000"u8, 0, (byte)'M', .. "no pg_hba.conf entry"u8, 0, 0];
        byte[] mysql = [0x4a, 0, 0, 0, 0x0a, .. "8.0.36"u8, 0, 1, 2, 3, 4];
        byte[] rdp = [0x03, 0, 0, 0x13, 0x0e, 0xd0, 0, 0, 0x12, 0x34, 0, 0x02, 0x1f, 0x08, 0, 0x02, 0, 0, 0];
        byte[] smb2 = [0, 0, 0, 0x81, 0xfe, (byte)'S', (byte)'M', (byte)'B', 0x40, 0, 0, 0];

        Assert.Equal("postgresql", Match("PostgresStartup", postgresSasl)?.Name);
        Assert.Equal("postgresql", Match("PostgresStartup", postgresError)?.Name);
        Assert.Equal(("MySQL", "8.0.36"), (Match("NULL", mysql)?.Product, Match("NULL", mysql)?.Version));
        Assert.Equal("ms-wbt-server", Match("RdpNegotiation", rdp)?.Name);
        Assert.Equal("microsoft-ds", Match("SmbNegotiate", smb2)?.Name);
    }

    [Fact]
    public void ParseFile_DebianNmapServiceProbes_TranslatesNearlyEveryLine()
    {
        const string path = "/usr/share/nmap/nmap-service-probes";
        if (!File.Exists(path))
        {
            output.WriteLine($"{path} is not installed (Debian package nmap-common); nothing to check");
            return;
        }

        var db = ServiceProbeParser.ParseFile(path);

        output.WriteLine($"{path}: {db.Probes.Count} probes, {db.MatchCount} match lines translated, {db.Warnings.Count} skipped");
        foreach (var warning in db.Warnings.Take(20))
            output.WriteLine($"  line {warning.Line}: {warning.Message}");
        Assert.True(db.Probes.Count > 100);
        Assert.True(db.MatchCount > 10_000);
        Assert.True(db.Warnings.Count < db.MatchCount / 100, $"{db.Warnings.Count} lines skipped");
    }

    /// <summary>dnsmasq's answer to version.bind over TCP: the 2-byte length, then the DNS message.</summary>
    private static readonly byte[] DnsmasqVersionOverTcp =
    [
        0x00, 0x2D, 0x00, 0x06, 0x85, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x07, .. "version"u8, 0x04, .. "bind"u8, 0x00, 0x00, 0x10, 0x00, 0x03,
        0xC0, 0x0C, 0x00, 0x10, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x0C, .. "dnsmasq-2.90"u8,
    ];

    [Fact]
    public void Match_TcpProbeFallingBackToAUdpProbe_UsesTheUdpProbesPatterns()
    {
        var db = ServiceProbeParser.Parse(new StringReader("""
            Probe TCP NULL q||
            Probe TCP DNSVersionBindReqTCP q|\0\x1E\0\x06\x01\0\0\x01\0\0\0\0\0\0\x07version\x04bind\0\0\x10\0\x03|
            fallback DNSVersionBindReq
            Probe UDP DNSVersionBindReq q|\0\x06\x01\0\0\x01\0\0\0\0\0\0\x07version\x04bind\0\0\x10\0\x03|
            match domain m|\x07version\x04bind\0\0\x10\0\x03\xc0\x0c\0\x10\0\x03.{7}dnsmasq-([-\w. +]+)$|s p/dnsmasq/ v/$1/
            """), "sample");

        var identity = ServiceMatcher.Match(db, db.Find(PortProtocol.Tcp, "DNSVersionBindReqTCP")!, DnsmasqVersionOverTcp);

        Assert.Empty(db.Warnings);
        Assert.Equal(("domain", "dnsmasq", "2.90"), (identity?.Name, identity?.Product, identity?.Version));
    }

    [Fact]
    public void Match_DnsmasqOverTcpOnNmapsOwnFile_IsNamedWithProductAndVersion()
    {
        const string path = "/usr/share/nmap/nmap-service-probes";
        Assert.True(File.Exists(path), $"{path} is not installed (Debian package nmap-common; scripts/test.sh installs it)");
        var db = ServiceProbeParser.ParseFile(path);

        var identity = ServiceMatcher.Match(db, db.Find(PortProtocol.Tcp, "DNSVersionBindReqTCP")!, DnsmasqVersionOverTcp);

        Assert.Equal(("domain", "dnsmasq", "2.90"), (identity?.Name, identity?.Product, identity?.Version));
    }

    /// <summary>Answers to the built-in UDP probes as the daemons send them (built from the protocols' encodings).</summary>
    [Theory]
    [InlineData("DNSVersionBindReq", "5057850000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000000d0c646e736d6173712d322e3930", "domain", "dnsmasq", "2.90")]
    [InlineData("DNSVersionBindReq", "5057850000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000001918392e31382e32382d317e646562313275322d44656269616e", "domain", "ISC BIND", "9.18.28-1~deb12u2-Debian")]
    [InlineData("DNSVersionBindReq", "505785050001000000000000", "domain", null, null)]
    [InlineData("NTPReadVariables", "16820001061800000000006b76657273696f6e3d226e74706420342e322e3870313540312e333732382d6f20576564205365702032332031313a34363a333820555443203230323020283129222c2070726f636573736f723d227838365f3634222c2073797374656d3d224c696e75782f362e312e3022", "ntp", "ntpd", "4.2.8p15")]
    [InlineData("NTPRequest", "240206e90000000000000000c00002010000000000000000504f52545741544300000000000000000000000000000000", "ntp", "NTP", "v4")]
    [InlineData("NTPRequest", "e41006e90000000000000000000000000000000000000000504f52545741544300000000000000000000000000000000", "ntp", "NTP", "v4")]
    [InlineData("SNMPv3Discovery", "30660201033011020450570003020300ffe3040100020103041c301a040b80001f88035254001234560201010202009c0400040004003030040b80001f88035254001234560400a81f0204505700040201000201003011300f060a2b060106030f01010400410101", "snmp", "net-snmp", null)]
    [InlineData("SNMPv2cPublic", "30818102010104067075626c6963a2740204505700010201000201003066306406082b0601020101010004584c696e75782074622d686f737420362e312e302d32382d616d64363420233120534d5020505245454d50545f44594e414d49432044656269616e20362e312e3131392d312028323032342d31312d323229207838365f3634", "snmp", "SNMP", null)]
    [InlineData("MemcachedVersionUdp", "50570000000100005645525349304e20312e362e31380d0a", null, null, null)]
    [InlineData("MemcachedVersionUdp", "505700000001000056455253494f4e20312e362e31380d0a", "memcached", "Memcached", "1.6.18")]
    public void BuiltIn_RecordedUdpAnswers_AreIdentified(string probeName, string answerHex, string? service, string? product, string? version)
    {
        var db = ProbeDatabases.BuiltIn();
        var probe = db.Find(PortProtocol.Udp, probeName)!;

        var identity = ServiceMatcher.Match(db, probe, Convert.FromHexString(answerHex));

        Assert.Equal((service, product, version), (identity?.Name, identity?.Product, identity?.Version));
    }

    [Fact]
    public void BuiltIn_DnsAnswerOverTcp_IsMatchedByTheUdpProbesPatterns()
    {
        var db = ProbeDatabases.BuiltIn();
        var answer = Convert.FromHexString("003b" + "5057850000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000000d0c646e736d6173712d322e3930");

        var identity = ServiceMatcher.Match(db, db.Find(PortProtocol.Tcp, "DNSVersionBindReqTCP")!, answer);

        Assert.Equal(("domain", "dnsmasq", "2.90"), (identity?.Name, identity?.Product, identity?.Version));
    }

    [Fact]
    public void Parse_ExcludeWithAndWithoutQualifiers_ExcludesAsNmapsPortSyntaxDoes()
    {
        var db = ServiceProbeParser.Parse(new StringReader("Exclude 53,T:9100-9101,U:161\nProbe TCP NULL q||\n"), "sample");

        Assert.Equal([53, 9100, 9101], db.Excluded.Tcp.Select(p => (int)p));
        Assert.Equal([53, 161], db.Excluded.Udp.Select(p => (int)p));
    }

    [Theory]
    [InlineData("5.5.5-10.11.6-MariaDB-0+deb12u1", "MariaDB", "10.11.6", "0+deb12u1")]
    [InlineData("11.4.2-MariaDB", "MariaDB", "11.4.2", null)]
    [InlineData("8.0.36", "MySQL", "8.0.36", null)]
    public void BuiltIn_MySqlGreetings_NameMariaDbBehindItsCompatibilityPrefix(string serverVersion, string product, string version, string? info)
    {
        var db = ProbeDatabases.BuiltIn();
        byte[] body = [0x0A, .. System.Text.Encoding.ASCII.GetBytes(serverVersion), 0x00, 0x2A, 0x00, 0x00, 0x00, .. "abcdefgh"u8, 0x00];
        byte[] greeting = [(byte)body.Length, 0x00, 0x00, 0x00, .. body];

        var identity = ServiceMatcher.Match(db, db.Find(PortProtocol.Tcp, "NULL")!, greeting);

        Assert.Equal(("mysql", product, version, info), (identity?.Name, identity?.Product, identity?.Version, identity?.ExtraInfo));
    }

    private static readonly Lazy<ServiceProbeDatabase> NmapFile = new(() =>
    {
        const string path = "/usr/share/nmap/nmap-service-probes";
        Assert.True(File.Exists(path), $"{path} is not installed (nmap-common; scripts/test.sh installs it)");
        return ServiceProbeParser.ParseFile(path);
    });

    /// <summary>Each directive as read from nmap's own file (Debian's nmap-common), against what that file says.</summary>
    [Fact]
    public void ParseFile_NmapsOwnFile_ReadsEveryDirectiveAsNmapDocumentsIt()
    {
        var db = NmapFile.Value;
        var nullProbe = db.Find(PortProtocol.Tcp, "NULL")!;
        var get = db.Find(PortProtocol.Tcp, "GetRequest")!;
        var ssl = db.Find(PortProtocol.Tcp, "SSLSessionReq")!;
        var dnsTcp = db.Find(PortProtocol.Tcp, "DNSVersionBindReqTCP")!;

        Assert.Equal([9100, 9101, 9102, 9103, 9104, 9105, 9106, 9107], db.Excluded.Tcp.Select(p => (int)p)); // Exclude T:9100-9107
        Assert.Empty(db.Excluded.Udp);
        Assert.Equal((6000, 3000), (nullProbe.TotalWaitMs, nullProbe.TcpWrappedMs));                       // totalwaitms, tcpwrappedms
        Assert.Equal(7500, db.Find(PortProtocol.Tcp, "Help")!.TotalWaitMs);
        Assert.Equal(1, get.Rarity);                                                                          // rarity
        Assert.Equal(3, dnsTcp.Rarity);
        Assert.Contains((ushort)8080, get.Ports);                                                             // ports
        Assert.Contains((ushort)8443, get.SslPorts);                                                          // sslports
        Assert.DoesNotContain((ushort)8443, get.Ports);
        Assert.Equal(["GetRequest"], ssl.Fallbacks);                                                          // fallback
        Assert.Equal(["DNSVersionBindReq"], dnsTcp.Fallbacks);
        Assert.Equal(PortProtocol.Udp, db.Probes.Single(p => p.Name == "DNSVersionBindReq").Protocol);
        Assert.True(db.Find(PortProtocol.Udp, "memcached")!.Payload.Length > 0);                              // UDP probes with their payloads
    }

    [Fact]
    public void Match_NmapsOwnFile_FallsBackToTheNullProbeOnTcpOnly()
    {
        var db = NmapFile.Value;
        var ssh = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"u8;

        // A TCP probe's answer is tried against the NULL probe's patterns last: an SSH banner on the GetRequest connection.
        Assert.Equal("ssh", ServiceMatcher.Match(db, db.Find(PortProtocol.Tcp, "GetRequest")!, ssh)?.Name);
        // A UDP probe has no NULL probe behind it.
        Assert.Null(ServiceMatcher.Match(db, db.Find(PortProtocol.Udp, "DNSStatusRequest")!, ssh));
    }

    [Fact]
    public void Match_NmapsOwnFile_SoftmatchNarrowsTheSearchToThatService()
    {
        var db = NmapFile.Value;
        var get = db.Find(PortProtocol.Tcp, "GetRequest")!;
        var nginx = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n<html>"u8;

        Assert.Equal(("http", "nginx"), (ServiceMatcher.Match(db, get, nginx)?.Name, ServiceMatcher.Match(db, get, nginx)?.Product));
        // Once a softmatch has said "ftp", an HTTP answer is no longer taken for http.
        Assert.Null(ServiceMatcher.Match(db, get, nginx, softService: "ftp"));
    }
}
