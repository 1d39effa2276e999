using System.Diagnostics;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>
/// Daemons started in a target namespace, each with its output in a log file under <see cref="Directory"/>
/// that stays readable after it dies; disposing kills them, and whatever else is left in the namespace
/// (children that outlive their parent: postgres under runuser, nginx workers, rpcbind beside rpc.statd),
/// then deletes the directory.
/// </summary>
public sealed class DaemonProcesses(string namespaceName, string prefix) : IDisposable
{
    private readonly List<Process> processes = [];

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}");

    /// <summary>Starts <paramref name="commandLine"/> (program and arguments, as a shell reads them) in the namespace; returns its log's path.</summary>
    public string Start(string commandLine, string name)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var log = Path.Combine(Directory, $"{name}.log");
        processes.Add(Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"exec /usr/sbin/ip netns exec {namespaceName} {commandLine} >{log} 2>&1"]))!);
        return log;
    }

    /// <summary>The end of every log, for a failure message.</summary>
    public string Logs(int perLog = 400) => string.Join("\n", System.IO.Directory.GetFiles(Directory, "*.log").Select(f =>
    {
        var text = File.ReadAllText(f);
        return $"{Path.GetFileName(f)}: {text[Math.Max(0, text.Length - perLog)..]}";
    }));

    public void Dispose()
    {
        foreach (var process in processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        foreach (var pid in NetworkNamespace.Shell($"ip netns pids {namespaceName} || true").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            NetworkNamespace.Shell($"kill -9 {pid.Trim()} 2>/dev/null || true");
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
