using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>
/// Runs code inside a network namespace made with `ip netns add`: a dedicated thread calls
/// setns(2) and stays there. Sockets it creates belong to that namespace for their whole life,
/// whichever thread uses them later, so listeners and scanners of several namespaces live in
/// this one test process.
/// </summary>
public sealed partial class NetworkNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private readonly BlockingCollection<Action> work = [];
    private readonly Thread thread;

    public NetworkNamespace(string name)
    {
        Name = name;
        using var ready = new ManualResetEventSlim();
        Exception? failure = null;
        thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{name}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns into {name}");
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            ready.Set();
            if (failure is not null)
                return;
            foreach (var action in work.GetConsumingEnumerable())
                action();
        })
        { IsBackground = true, Name = $"netns-{name}" };
        thread.Start();
        ready.Wait();
        if (failure is not null)
            throw new InvalidOperationException($"cannot enter network namespace {name}", failure);
    }

    public string Name { get; }

    public T Run<T>(Func<T> function)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            try
            {
                done.SetResult(function());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    public Socket NewSocket(AddressFamily family, SocketType type, ProtocolType protocol) => Run(() => new Socket(family, type, protocol));

    public void Dispose()
    {
        work.CompleteAdding();
        thread.Join(TimeSpan.FromSeconds(2));
        work.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    /// <summary>Runs a shell command; throws with its output when it fails.</summary>
    public static string Shell(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"'{command}' failed ({process.ExitCode}): {error}{output}");
        return output;
    }
}
