using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Tests.Data;

namespace PortWatch.Web.Tests.Jobs;

/// <summary>
/// PortWatch as real processes: two nodes on one PostgreSQL database (Quartz clustered) sharing a
/// run's shards, one killed mid-run; and a single SQLite node killed mid-scan and started again.
/// Targets are loopback addresses only.
/// </summary>
public sealed class ClusterTests : IDisposable
{
    private readonly List<Process> nodes = [];
    private readonly List<string> directories = [];
    private readonly Dictionary<Process, string> logs = [];

    private string Tail(Process node)
    {
        var text = File.Exists(logs[node]) ? File.ReadAllText(logs[node]) : "";
        return text[Math.Max(0, text.Length - 3000)..];
    }

    private static string WebAssembly() => PortWatchAppFactory.WebAssemblyPath();

    private Process StartNode(string name, string? postgresConnectionString, string? dataDirectory = null)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), $"portwatch-node-{name}-{Guid.NewGuid():N}");
        directories.Add(dataDirectory);
        var start = new ProcessStartInfo("dotnet", [WebAssembly(), "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(WebAssembly())!,
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

    [PostgresFact]
    public async Task Run_NodeKilledMidShard_OtherNodeCompletesTheRunWithoutDuplicates()
    {
        var (connectionString, drop) = PostgresTests.NewDatabase();
        var contexts = PostgresTests.Contexts(connectionString);
        using var listener = new LoopbackListener();
        var port = listener.Port;
        try
        {
            long runId;
            await using (var db = contexts())
            {
                await db.Database.MigrateAsync();
                // Six one-address shards of ~8 s each: both nodes get some, and one dies in the middle of its own.
                var profile = new ScanProfile { Name = "cluster", TcpPorts = $"1-8000,{port}", Engine = ScanEngineKind.Connect, RatePps = 1000, Retries = 0, TimeoutMs = 300, ServiceDetection = false };
                db.ScanProfiles.Add(profile);
                await db.SaveChangesAsync();
                var run = new ScanRun { Status = ScanRunStatus.Queued, ScanProfileId = profile.Id, TargetSpec = "127.0.0.1-127.0.0.6", CreatedAt = DateTime.UtcNow };
                db.ScanRuns.Add(run);
                await db.SaveChangesAsync();
                runId = run.Id; // queued before the nodes start: they pick it up at start-up
            }
            var nodeA = StartNode("a", connectionString);
            var nodeB = StartNode("b", connectionString);

            // Kill whichever node is running a shard once both have started working.
            ScanShard? victim = null;
            for (var i = 0; i < 300 && victim is null; i++)
            {
                await Task.Delay(100);
                await using var db = contexts();
                // Well inside its work (over half of its ~8000 probes, about 4 s, still to go), so it cannot finish before the kill lands;
                // checkpoints are saved every 2 s, so a shard shows one below 4000 for a while.
                var running = await db.ScanShards.AsNoTracking()
                    .Where(s => s.ScanRunId == runId && s.Status == ScanRunStatus.Running && s.CheckpointPosition > 0 && s.CheckpointPosition < 4000).ToListAsync();
                victim = running.FirstOrDefault(s => s.Node?.EndsWith($":{nodeA.Id}", StringComparison.Ordinal) == true)
                    ?? running.FirstOrDefault(s => s.Node?.EndsWith($":{nodeB.Id}", StringComparison.Ordinal) == true);
            }
            Assert.NotNull(victim);
            var killed = victim.Node!.EndsWith($":{nodeA.Id}", StringComparison.Ordinal) ? nodeA : nodeB;
            killed.Kill(entireProcessTree: true);
            await killed.WaitForExitAsync();

            ScanRun? done = null;
            for (var i = 0; i < 600 && done is null; i++)
            {
                await Task.Delay(100);
                await using var db = contexts();
                done = await db.ScanRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId && (r.Status == ScanRunStatus.Completed || r.Status == ScanRunStatus.Failed));
            }

            if (done is null)
            {
                await using var state = contexts();
                var shardStates = string.Join("; ", (await state.ScanShards.AsNoTracking().Where(s => s.ScanRunId == runId).ToListAsync())
                    .Select(s => $"{s.Index}:{s.Status}@{s.Node} cp={s.CheckpointPosition}"));
                var survivor = killed == nodeA ? nodeB : nodeA;
                Assert.Fail($"run not finished; shards {shardStates}; victim {victim.Index}; survivor log: {Tail(survivor)}");
            }
            Assert.Equal(ScanRunStatus.Completed, done!.Status);
            await using var check = contexts();
            var shards = await check.ScanShards.AsNoTracking().Where(s => s.ScanRunId == runId).ToListAsync();
            Assert.Equal(6, shards.Count);
            Assert.All(shards, s => Assert.Equal(ScanRunStatus.Completed, s.Status));
            var takenOver = shards.Single(s => s.Id == victim.Id);
            Assert.NotEqual(victim.Node, takenOver.Node);
            Assert.True(takenOver.ResumeCount >= 1, "the dead node's shard continued from its checkpoint");
            var observations = await check.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId).ToListAsync();
            Assert.Single(observations, o => o.Address == "127.0.0.1" && o.Port == port);
            Assert.Equal(observations.Count, observations.Select(o => (o.Address, o.Port)).Distinct().Count());
            Assert.Equal(6, await check.ScanTargetCoverage.CountAsync(c => c.ScanRunId == runId));
            // Every loopback target answered (resets), before or after the takeover: all covered completely.
            Assert.All(await check.ScanTargetCoverage.Where(c => c.ScanRunId == runId).ToListAsync(), c => Assert.Equal(TargetCoverageStatus.Complete, c.Status));
        }
        finally
        {
            foreach (var node in nodes.Where(n => !n.HasExited))
                node.Kill(entireProcessTree: true);
            await drop();
        }
    }

    [Fact]
    public async Task Run_ProcessKilledMidScanAndStartedAgain_ResumesAndCompletes()
    {
        using var listener = new LoopbackListener();
        var port = listener.Port;
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"portwatch-kill-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, "portwatch.db");
        Func<PortWatchDbContext> contexts = () => new SqlitePortWatchDbContext(new DbContextOptionsBuilder<PortWatchDbContext>().UseSqlite($"Data Source={file}").Options);
        long runId;
        await using (var db = contexts())
        {
            await db.Database.MigrateAsync();
            var profile = new ScanProfile { Name = "kill", TcpPorts = $"1-20000,{port}", Engine = ScanEngineKind.Connect, RatePps = 2500, Retries = 0, TimeoutMs = 300, ServiceDetection = false };
            db.ScanProfiles.Add(profile);
            await db.SaveChangesAsync();
            var run = new ScanRun { Status = ScanRunStatus.Queued, ScanProfileId = profile.Id, TargetSpec = "127.0.0.1", CreatedAt = DateTime.UtcNow };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
        }

        var first = StartNode("first", null, dataDirectory);
        for (var i = 0; i < 300; i++)
        {
            await Task.Delay(100);
            await using var db = contexts();
            if (await db.ScanShards.AnyAsync(s => s.ScanRunId == runId && s.CheckpointPosition > 3000))
                break;
        }
        first.Kill(entireProcessTree: true); // no shutdown, no flush: a crash
        await first.WaitForExitAsync();
        long checkpointAtCrash;
        await using (var db = contexts())
            checkpointAtCrash = (await db.ScanShards.SingleAsync(s => s.ScanRunId == runId)).CheckpointPosition ?? 0;
        Assert.InRange(checkpointAtCrash, 3000, 19000);

        var second = StartNode("second", null, dataDirectory);
        ScanRun? done = null;
        for (var i = 0; i < 600 && done is null; i++)
        {
            await Task.Delay(100);
            await using var db = contexts();
            done = await db.ScanRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId && (r.Status == ScanRunStatus.Completed || r.Status == ScanRunStatus.Failed));
        }

        Assert.True(done is not null, $"run not finished; log: {Tail(second)}");
        Assert.Equal(ScanRunStatus.Completed, done.Status);
        Assert.Equal(1, done.ResumeCount);
        await using var check = contexts();
        var found = await check.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId).Select(o => o.Port).ToListAsync();
        Assert.Single(found, p => p == port);                   // found once, before or after the crash
        Assert.Equal(found.Count, found.Distinct().Count());     // nothing written twice
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
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
    }
}
