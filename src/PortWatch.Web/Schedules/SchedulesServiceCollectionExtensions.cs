namespace PortWatch.Web.Schedules;

public static class SchedulesServiceCollectionExtensions
{
    /// <summary>Schedules and scan profiles, and the Quartz triggers kept in step with them.</summary>
    public static WebApplicationBuilder AddPortWatchSchedules(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ScheduleSynchronizer>();
        builder.Services.AddScoped<ScheduleService>();
        return builder;
    }
}
