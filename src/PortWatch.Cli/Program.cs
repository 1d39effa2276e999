using PortWatch.Cli;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C stops the scan cleanly (and saves a checkpoint with --resume); a second one kills.
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};
return await CommandLine.RunAsync(args, Console.Out, Console.Error, cancel.Token);
