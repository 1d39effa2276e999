using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using Quartz;

namespace PortWatch.Web.Sentinel;

/// <summary>Puts the sentinel's two triggers in place once the host (and Quartz) has started, replacing those of an earlier configuration.</summary>
/// <remarks>Quartz's store is shared by the cluster, so each firing runs on one node; a firing missed while every node was down is not made up.</remarks>
public sealed class SentinelScheduler(ISchedulerFactory schedulers, IOptions<SentinelOptions> options, IHostApplicationLifetime lifetime, ILogger<SentinelScheduler> logger) : IHostedService
{
    public const string Group = "sentinel";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = ScheduleAsync(lifetime.ApplicationStopping));
        return Task.CompletedTask;
    }

    private async Task ScheduleAsync(CancellationToken cancellationToken)
    {
        try
        {
            var scheduler = await schedulers.GetScheduler(cancellationToken);
            await scheduler.DeleteJob(SentinelPassJob.Key, cancellationToken);
            await scheduler.DeleteJob(CoverageRecoveryJob.Key, cancellationToken);
            var settings = options.Value;
            if (!settings.Enabled)
            {
                logger.LogInformation("Sentinel tier is off (Sentinel:Enabled is false)");
                return;
            }
            var interval = TimeSpan.FromMinutes(settings.IntervalMinutes);
            await scheduler.ScheduleJob(JobBuilder.Create<SentinelPassJob>().WithIdentity(SentinelPassJob.Key).Build(), Every(interval, "sentinel-pass-every", TimeSpan.FromSeconds(30)), cancellationToken: cancellationToken);
            if (settings.RecoveryEnabled)
                await scheduler.ScheduleJob(JobBuilder.Create<CoverageRecoveryJob>().WithIdentity(CoverageRecoveryJob.Key).Build(), Every(interval, "sentinel-recovery-every", TimeSpan.FromSeconds(45)), cancellationToken: cancellationToken);
            logger.LogInformation("Sentinel tier: the risk catalogue's ports on every enabled asset every {Minutes} min{Recovery}", settings.IntervalMinutes,
                settings.RecoveryEnabled ? ", with coverage recovery of lost hosts" : "");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Sentinel tier could not be scheduled");
        }
    }

    private static ITrigger Every(TimeSpan interval, string name, TimeSpan firstAfter) => TriggerBuilder.Create()
        .WithIdentity(name, Group)
        .StartAt(DateTimeOffset.UtcNow + firstAfter)
        .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
        .Build();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
