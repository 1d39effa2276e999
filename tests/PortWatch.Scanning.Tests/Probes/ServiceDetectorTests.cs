using System.Net;
using PortWatch.Scanning.Probes;

namespace PortWatch.Scanning.Tests.Probes;

public class ServiceDetectorTests
{
    /// <summary>Ports of one host share a bound, and a host with many ports does not keep the others waiting for the pool.</summary>
    [Fact]
    public async Task Concurrently_ManyPortsOnOneHost_NeverMoreThanTheBoundAtOnceAndOtherHostsGoFirst()
    {
        var big = IPAddress.Parse("192.0.2.1");
        var small = IPAddress.Parse("192.0.2.2");
        var endpoints = Enumerable.Range(1, 40).Select(p => new IPEndPoint(big, p)).Append(new IPEndPoint(small, 7)).ToList();
        var running = new Dictionary<IPAddress, int>();
        var most = new Dictionary<IPAddress, int>();
        var order = new List<IPEndPoint>();
        var options = new ProbeRunnerOptions { Concurrency = 8, PortsPerHost = 3 };

        await foreach (var _ in ServiceDetector.Concurrently(endpoints, e => e.Address, options, async (endpoint, ct) =>
        {
            lock (running)
            {
                order.Add(endpoint);
                running[endpoint.Address] = running.GetValueOrDefault(endpoint.Address) + 1;
                most[endpoint.Address] = Math.Max(most.GetValueOrDefault(endpoint.Address), running[endpoint.Address]);
            }
            await Task.Delay(5, ct);
            lock (running)
                running[endpoint.Address]--;
            return new ServiceReport(endpoint, null, false, null, null, [], null, TimeSpan.Zero);
        }, CancellationToken.None))
        {
        }

        Assert.Equal(41, order.Count);
        Assert.Equal(3, most[big]);
        Assert.Contains(new IPEndPoint(small, 7), order.Take(4));
    }
}

public sealed class ServiceDetectorFailureTests
{
    [Fact]
    public async Task ProbeManyAsync_DetectionThrows_TheReportCarriesTheErrorInsteadOfEndingTheStream()
    {
        // Every socket fails in a way no probe expects (so nothing is sent). Before, the exception ended the whole stream,
        // and with it service detection of every other port of the run.
        var runner = new UdpServiceProbeRunner(ProbeDatabases.BuiltIn(), new ProbeRunnerOptions { ProbeWait = TimeSpan.FromMilliseconds(50), PortBudget = TimeSpan.FromMilliseconds(500) },
            _ => throw new InvalidOperationException("boom"));

        var reports = new List<ServiceReport>();
        await foreach (var report in runner.ProbeManyAsync([new IPEndPoint(IPAddress.Parse("192.0.2.7"), 161), new IPEndPoint(IPAddress.Parse("192.0.2.8"), 161)]))
            reports.Add(report);

        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.Contains("detection failed: InvalidOperationException: boom", r.Error));
    }
}
