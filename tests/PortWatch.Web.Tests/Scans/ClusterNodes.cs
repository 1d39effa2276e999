using System.Diagnostics;
using PortWatch.Tests.Shared;

namespace PortWatch.Web.Tests.Scans;

/// <summary>PortWatch nodes as real processes (the published web host), with their output kept in a log per node.</summary>
public sealed class ClusterNodes : IDisposable
{
    private readonly List<Process> nodes = [];
    private readonly List<string> directories = [];
    private readonly Dictionary<Process, string> logs = [];

    /// <summary>The end of a node's log, for failure messages.</summary>
    public string Tail(Process node, int characters = 3000)
    {
        var text = File.Exists(logs[node]) ? File.ReadAllText(logs[node]) : "";
        return text[Math.Max(0, text.Length - characters)..];
    }

    /// <param name="postgresConnectionString">Null: SQLite in <paramref name="dataDirectory"/>.</param>
    /// <param name="settings">Extra configuration as environment variables (Section__Key).</param>
    public Process Start(string name, string? postgresConnectionString, string? dataDirectory = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var webAssembly = PortWatchAppFactory.WebAssemblyPath();
        dataDirectory ??= Path.Combine(Path.GetTempPath(), $"portwatch-node-{name}-{Guid.NewGuid():N}");
        directories.Add(dataDirectory);
        var start = new ProcessStartInfo("dotnet", [webAssembly, "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(webAssembly)!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["PortWatch__DataDirectory"] = dataDirectory;
        if (postgresConnectionString is not null)
        {
            start.Environment["Database__Provider"] = "PostgreSQL";
            start.Environment["Database__ConnectionString"] = postgresConnectionString;
        }
        start.Environment["Admin__Password"] = "Admin-Password-1";
        start.Environment["Scanning__ShardSize"] = "1";
        start.Environment["Scanning__MaxConcurrentScans"] = "2";
        start.Environment["Scanning__ExcludeScannerAddresses"] = "false"; // the targets are loopback listeners
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        var process = Process.Start(start)!;
        Directory.CreateDirectory(dataDirectory);
        var logPath = Path.Combine(dataDirectory, $"node-{name}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        logs[process] = logPath;
        process.OutputDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        nodes.Add(process);
        return process;
    }

    /// <summary>The address the node listens on, from its start-up log ("PortWatch dashboard: http://...").</summary>
    public async Task<Uri> AddressAsync(Process node)
    {
        var line = await Eventually.WaitAsync(() => Task.FromResult(Tail(node, 100_000).Split('\n').FirstOrDefault(l => l.Contains("PortWatch dashboard: http", StringComparison.Ordinal))),
            l => l is not null || node.HasExited, TimeSpan.FromSeconds(60));
        if (line is null)
            throw new InvalidOperationException($"the node did not start: {Tail(node)}");
        return new Uri(line[line.IndexOf("http", StringComparison.Ordinal)..].Trim());
    }

    /// <summary>How the node names itself in shard and run rows (machine:pid).</summary>
    public static bool Owns(Process node, string? nodeId) => nodeId?.EndsWith($":{node.Id}", StringComparison.Ordinal) == true;

    public static async Task KillAsync(Process node)
    {
        node.Kill(entireProcessTree: true); // no shutdown, no flush: a crash
        await node.WaitForExitAsync();
    }

    public void Dispose()
    {
        foreach (var node in nodes)
        {
            if (!node.HasExited)
                node.Kill(entireProcessTree: true);
            node.Dispose();
        }
        foreach (var directory in directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        nodes.Clear();
        directories.Clear();
    }
}
