using Microsoft.Extensions.Configuration;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Tests.Configuration;

public class SampleSettingsTests
{
    private static readonly Dictionary<string, Type> OptionsBySection = new()
    {
        [PortWatchOptions.Section] = typeof(PortWatchOptions),
        [DatabaseOptions.Section] = typeof(DatabaseOptions),
        [AdminOptions.Section] = typeof(AdminOptions),
        [ScanningOptions.Section] = typeof(ScanningOptions),
        [TriageOptions.Section] = typeof(TriageOptions),
        [AlertOptions.Section] = typeof(AlertOptions),
        [SmtpOptions.Section] = typeof(SmtpOptions),
        [ImportOptions.Section] = typeof(ImportOptions),
        [SignInSessionOptions.Section] = typeof(SignInSessionOptions),
        [HttpSecurityOptions.Section] = typeof(HttpSecurityOptions),
        [MetricsOptions.Section] = typeof(MetricsOptions),
        [TicketOptions.Section] = typeof(TicketOptions),
        [FlowsOptions.Section] = typeof(FlowsOptions),
        [SentinelOptions.Section] = typeof(SentinelOptions),
    };

    /// <summary>Sections owned by the framework rather than by a PortWatch options class.</summary>
    private static readonly string[] FrameworkSections = ["Logging", "Urls", "AllowedHosts"];

    [Fact]
    public void SampleFile_EveryKey_BindsToAnOptionsClass()
    {
        var configuration = LoadWithoutComments(Path.Combine(RepositoryRoot(), "appsettings.sample.json"));

        foreach (var section in configuration.GetChildren())
        {
            if (FrameworkSections.Contains(section.Key))
                continue;
            Assert.True(OptionsBySection.TryGetValue(section.Key, out var type), $"section '{section.Key}' has no options class");
            // Throws on a key the options class does not have: a typo in the sample would mislead every operator.
            section.Get(type, o => o.ErrorOnUnknownConfiguration = true);
        }
        Assert.All(OptionsBySection.Keys, key => Assert.True(configuration.GetSection(key).Exists(), $"the sample lacks section '{key}'"));
    }

    private static IConfiguration LoadWithoutComments(string path)
    {
        var raw = new ConfigurationBuilder().AddJsonFile(path).Build();
        var pairs = raw.AsEnumerable().Where(p => !p.Key.Split(':').Any(part => part.StartsWith("//", StringComparison.Ordinal)));
        return new ConfigurationBuilder().AddInMemoryCollection(pairs).Build();
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dashboard.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
