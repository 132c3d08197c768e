namespace Vitals.Gateway.Tests.Feeds;

/// <summary>Paths in the repository: the shared sample captures.</summary>
internal static class Repo
{
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
