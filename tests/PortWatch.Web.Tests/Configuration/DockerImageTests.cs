using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Configuration;

/// <summary>
/// The Docker image as written (no engine is needed to read it): the final stage runs from the web
/// host's folder, so appsettings.json is found; packages restore in their own layer; and the
/// password the README and the Dockerfile tell people to use passes the password policy.
/// </summary>
public class DockerImageTests
{
    private static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dashboard.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void Dockerfile_FinalStage_RunsFromTheWebHostsFolder()
    {
        var text = File.ReadAllText(Path.Combine(Root(), "Dockerfile"));
        var final = text[text.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];

        Assert.Matches(new Regex(@"^WORKDIR /app/web\s*$", RegexOptions.Multiline), final);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/web/PortWatch.Web.dll\"]", final, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_BuildStage_RestoresBeforeCopyingTheSources()
    {
        var text = File.ReadAllText(Path.Combine(Root(), "Dockerfile"));
        var build = text[..text.LastIndexOf("\nFROM ", StringComparison.Ordinal)];

        var restore = build.IndexOf("dotnet restore", StringComparison.Ordinal);
        var copyAll = build.IndexOf("COPY . .", StringComparison.Ordinal);
        Assert.True(restore > 0 && copyAll > restore, "the restore layer must come before COPY . .");
        Assert.Contains("--no-restore", build[copyAll..], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DocumentedAdminPassword_PassesThePasswordPolicy()
    {
        using var app = new PortWatchAppFactory();
        var users = app.Services.CreateScope().ServiceProvider.GetRequiredService<UserManager<PortWatchUser>>();
        foreach (var file in new[] { "README.md", "Dockerfile" })
        {
            var text = File.ReadAllText(Path.Combine(Root(), file));
            var passwords = Regex.Matches(text, @"Admin__Password='([^']+)'").Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(passwords);
            foreach (var password in passwords)
            {
                foreach (var validator in users.PasswordValidators)
                {
                    var result = await validator.ValidateAsync(users, new PortWatchUser { UserName = "admin" }, password);
                    Assert.True(result.Succeeded, $"{file}: '{password}' fails the policy: {string.Join("; ", result.Errors.Select(e => e.Description))}");
                }
            }
        }
    }
}
