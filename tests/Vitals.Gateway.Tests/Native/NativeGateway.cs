using System.Diagnostics;
using Vitals.Gateway.Tests.Feeds;

namespace Vitals.Gateway.Tests.Native;

/// <summary>
/// The published Native AOT gateway (<c>vitals</c>), as users run it. tests/run.sh publishes it once and passes its path
/// in <see cref="Variable"/>; run alone (plain <c>dotnet test</c>), the fixture publishes it itself into the test output
/// (MSBuild's incremental build makes a repeat publish of unchanged sources quick). It never skips: what only the native
/// binary gets wrong (a type missing from a JSON context, an endpoint without a generated delegate) is found here or nowhere.
/// </summary>
public sealed class NativeGateway : IAsyncLifetime
{
    /// <summary>The environment variable holding the published binary's path.</summary>
    public const string Variable = "VITALS_AOT_GATEWAY";

    /// <summary>How long a publish may take on a busy 2-core machine.</summary>
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(20);

    /// <summary>Path of the native <c>vitals</c> executable.</summary>
    public string Executable { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var given = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(given))
        {
            Assert.True(File.Exists(given), $"{Variable}={given}: no such file. Fix: publish with `dotnet publish src/Vitals.Gateway -c Release -o DIR` and pass DIR/vitals, or unset it.");
            Executable = Path.GetFullPath(given);
            return;
        }

        var output = Path.Combine(AppContext.BaseDirectory, "aot-gateway");
        var (exit, text) = await RunAsync("dotnet", ["publish", Path.Combine(Repo.RepoRoot(), "src", "Vitals.Gateway"), "-c", "Release", "-o", output, "-nologo"], PublishTimeout);
        Assert.True(exit == 0, $"dotnet publish of the native gateway failed (exit {exit}):\n{text}");
        Executable = Path.Combine(output, "vitals");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Runs <paramref name="file"/> to its end; returns its exit code and its output (stdout, then stderr).</summary>
    public static async Task<(int Exit, string Output)> RunAsync(
        string file, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not end within {timeout.TotalMinutes:0} min.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
