using System.Diagnostics;
using System.Text;
using PortWatch.Scanning.Probes;

namespace PortWatch.Scanning.Tests.Probes;

public sealed class HttpFactsTests
{
    private static HttpFacts? Parse(string response) => HttpFacts.TryParse(Encoding.Latin1.GetBytes(response));

    [Fact]
    public void TryParse_OrdinaryResponse_ReadsStatusServerTitleAndLocation()
    {
        var facts = Parse("HTTP/1.1 302 Found\r\nServer: nginx/1.24.0\r\nLocation: /login\r\n\r\n<html><head><TITLE lang=\"en\">  Sign\n in  </TITLE></head></html>");

        Assert.Equal(new HttpFacts(302, "nginx/1.24.0", "Sign in", "/login"), facts);
    }

    [Fact]
    public void TryParse_TitleNeverClosed_HasNoTitle()
    {
        Assert.Null(Parse("HTTP/1.0 200 OK\r\n\r\n<title>half")!.Title);
    }

    [Fact]
    public void TryParse_HostileBodyOfUnclosedTitles_AnswersQuicklyWithoutThrowing()
    {
        // A megabyte of "<title>" with no closing tag: a backtracking search from every opening is quadratic, and its
        // timeout surfaced as an exception that ended service detection of the whole run.
        var body = new StringBuilder("HTTP/1.1 200 OK\r\nServer: trap\r\n\r\n");
        while (body.Length < 1 << 20)
            body.Append("<title>");
        var clock = Stopwatch.StartNew();

        var facts = Parse(body.ToString());

        Assert.Equal((200, "trap", (string?)null), (facts!.Status, facts.Server, facts.Title));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{clock.Elapsed}");
    }

    [Fact]
    public void TryParse_HugeTitle_IsBoundedAndWhitespaceFolded()
    {
        var title = string.Join(" \t\r\n ", Enumerable.Repeat("word", 200_000));

        var facts = Parse($"HTTP/1.1 200 OK\r\n\r\n<title>{title}</title>");

        Assert.Equal(HttpFacts.MaxFieldLength, facts!.Title!.Length);
        Assert.StartsWith("word word word", facts.Title);
    }
}
