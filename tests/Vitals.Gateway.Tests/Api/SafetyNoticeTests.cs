using System.Text.RegularExpressions;
using Vitals.Gateway.Api;

namespace Vitals.Gateway.Tests.Api;

public sealed partial class SafetyNoticeTests
{
    public static TheoryData<string> PageFiles => new(PageNames());

    [Fact]
    public void Pages_AllFourShipped()
    {
        Assert.Equal(["admin.html", "chair.html", "index.html", "login.html"], PageNames().Order(StringComparer.Ordinal));
    }

    /// <summary>The pages carry the statement as static text (it shows without script); this keeps each copy word for word the API's.</summary>
    [Theory]
    [MemberData(nameof(PageFiles))]
    public void Page_SafetyFooter_IsTheStatementWordForWord(string file)
    {
        var html = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Pages", file));
        var footer = SafetyFooter().Match(html);
        Assert.True(footer.Success, $"{file} has no <footer class=\"safety\">");
        Assert.Equal(SafetyNotice.Text, Whitespace().Replace(footer.Groups[1].Value, " ").Trim());
    }

    private static string[] PageNames() =>
        [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Pages"), "*.html").Select(f => Path.GetFileName(f))];

    [GeneratedRegex("""<footer class="safety"[^>]*>(.*?)</footer>""", RegexOptions.Singleline)]
    private static partial Regex SafetyFooter();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
