using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Tests.Sentinel;

/// <summary>A bad Sentinel setting is refused at start with a message that names it (the options are validated on start).</summary>
public sealed class SentinelOptionsTests
{
    [Theory]
    [InlineData("IntervalMinutes", "0", "Sentinel:IntervalMinutes must be 1 to 1440 (default 5).")]
    [InlineData("Engine", "Nmap", null)]
    [InlineData("Engine", "42", "Sentinel:Engine must be Auto, Syn or Connect (default Auto).")]
    [InlineData("RecoveryWaitMinutes", "-5", "Sentinel:RecoveryWaitMinutes must be 1 to 1440 (default 15).")]
    [InlineData("RatePps", "0", "Sentinel:RatePps must be 1 to 10000000 (default 2000).")]
    public void Validate_BadSetting_IsRefusedNamingTheSetting(string key, string value, string? message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"Sentinel:{key}"] = value }).Build();
        using var services = new ServiceCollection().AddValidatedOptions<SentinelOptions>(configuration, SentinelOptions.Section).Services.BuildServiceProvider();

        var error = Assert.ThrowsAny<Exception>(() => services.GetRequiredService<IOptions<SentinelOptions>>().Value);

        if (message is not null)
            Assert.Contains(message, Assert.IsType<OptionsValidationException>(error).Failures);
        else
            Assert.IsType<InvalidOperationException>(error); // not a name of the enum: the binder refuses it, naming the value
    }
}
