namespace Vitals.Gateway.Tests.Feeds;

/// <summary>Polling helpers with a hard timeout, so a broken feed fails the test instead of hanging it.</summary>
internal static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not within {seconds} s");
            await Task.Delay(50);
        }
    }

    /// <summary>The repository root (holds Vitals.sln), for the shared sample captures.</summary>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vitals.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Vitals.sln not found above the test output directory.");
    }

    public static string Capture(string name) => Path.Combine(RepoRoot(), "tests", "Vitals.Devices.Tests", "Captures", name);
}
