using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vitals.Gateway.Tests;

/// <summary>
/// <c>vitals run</c> as a child process, for tests that kill the gateway with SIGKILL and start it again. Every port is
/// port 0 (the dashboard's <c>--urls</c> here, the config's <c>hl7.listen</c> when the test writes <c>127.0.0.1:0</c>):
/// the child binds what the kernel gives it and reports it on its started line, so no port picked in advance can be
/// taken by someone else before the child binds it. The child's output is kept and goes into every failure message.
/// </summary>
public sealed partial class GatewayProcess : IDisposable
{
    /// <summary>How long the whole gateway may take to start as a child process on a busy 2-core machine.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private const int KeptLines = 200;
    private readonly Process process;
    private readonly Queue<string> output = new();
    private readonly TaskCompletionSource<Match> started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HttpClient? http;

    private GatewayProcess(Process process) => this.process = process;

    /// <summary>The dashboard and API address the child bound (the first of <see cref="Addresses"/>).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Every address the child bound, in the order its started line lists them.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>The port the child's HL7/MLLP listener bound (0 when the config has no HL7 listener).</summary>
    public int Hl7Port { get; private set; }

    /// <summary>A client for <see cref="Address"/> with its own cookie jar; signed in as admin unless the start said otherwise.</summary>
    public HttpClient Http => http ?? throw new InvalidOperationException("The gateway has not started.");

    /// <summary>True once the child has exited (killed or crashed).</summary>
    public bool HasExited => process.HasExited;

    /// <summary>The child's latest output lines (stdout and stderr, in arrival order), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return string.Join('\n', output);
            }
        }
    }

    /// <summary>
    /// Starts <c>vitals run --config <paramref name="config"/> --data <paramref name="data"/></c> on port 0 and waits until it
    /// reports its bound addresses; fails with the exit code and the child's output if it exits first. The child is
    /// <c>dotnet vitals.dll</c> of this build, or <paramref name="executable"/> (the published native binary) when given.
    /// </summary>
    public static Task<GatewayProcess> StartAsync(string config, string data, bool signIn = true, string? executable = null) =>
        StartAsync(["run", "--config", config, "--data", data], signIn, executable: executable);

    /// <summary>
    /// Starts <c>vitals <paramref name="arguments"/> --urls <paramref name="urls"/></c> (for example a <c>demo</c>) with
    /// <paramref name="environment"/> added to the admin password variable, and waits as above. Give every url port 0.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(
        IReadOnlyList<string> arguments, bool signIn, string urls = "http://127.0.0.1:0", IReadOnlyDictionary<string, string>? environment = null, string? executable = null)
    {
        var psi = new ProcessStartInfo(executable ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["VITALS_ADMIN_PASSWORD"] = GatewayHost.AdminPassword },
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        foreach (var argument in (string[])[.. executable is null ? [Path.Combine(AppContext.BaseDirectory, "vitals.dll")] : (string[])[], .. arguments, "--urls", urls])
        {
            psi.ArgumentList.Add(argument);
        }

        var gateway = new GatewayProcess(Process.Start(psi)!);
        try
        {
            await gateway.WaitStartedAsync();
            if (signIn)
            {
                using var login = await gateway.SendAsync(HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
                Assert.True(login.StatusCode == HttpStatusCode.NoContent, $"sign-in answered {login.StatusCode}; gateway output:\n{gateway.Output}");
            }

            return gateway;
        }
        catch
        {
            gateway.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="body"/> as JSON with a fresh antiforgery token.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null) => GatewayHost.SendAsync(Http, method, path, body);

    /// <summary>GET <paramref name="path"/> as JSON.</summary>
    public async Task<T> GetAsync<T>(string path) =>
        JsonSerializer.Deserialize<T>(await Http.GetStringAsync(new Uri(path, UriKind.Relative)), TestJson.Options)!;

    /// <summary>Waits for <paramref name="condition"/> like <see cref="Eventually"/>, failing with the child's output (and a dead child's exit code).</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        try
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        Assert.Fail($"the gateway exited with code {ExitCode()} while waiting for {what}; its output:\n{Output}");
                    }

                    return await condition();
                },
                what,
                timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Gateway output:\n{Output}", e);
        }
    }

    /// <summary>SIGKILL: no shutdown hook runs, nothing is flushed. Waits until the process is gone.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        process.WaitForExit();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Kill();
        http?.Dispose();
        process.Dispose();
    }

    // "dashboard at http://127.0.0.1:PORT[, https://...][, HL7/MLLP on ADDRESS:PORT], data in ..." (Cli's started line).
    [GeneratedRegex(@"dashboard at (?<urls>https?://[^,\s]+(?:, https?://[^,\s]+)*)(?:[^\n]*?, HL7/MLLP on \S+:(?<hl7>\d+),)?")]
    private static partial Regex StartedLine();

    private async Task WaitStartedAsync()
    {
        process.OutputDataReceived += (_, e) => Keep(e.Data, fromStdout: true);
        process.ErrorDataReceived += (_, e) => Keep(e.Data, fromStdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(StartTimeout);
        var exited = process.WaitForExitAsync(timeout.Token);
        if (await Task.WhenAny(started.Task, exited) != started.Task)
        {
            Assert.Fail(process.HasExited
                ? $"the gateway exited with code {ExitCode()} before it was ready; its output:\n{Output}"
                : $"the gateway did not report ready within {StartTimeout.TotalSeconds:0} s; its output:\n{Output}");
        }

        var line = await started.Task;
        Addresses = [.. line.Groups["urls"].Value.Split(", ").Select(url => new Uri(url.TrimEnd('/') + "/"))];
        Address = Addresses[0];
        Hl7Port = line.Groups["hl7"].Success ? int.Parse(line.Groups["hl7"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = Address,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    private void Keep(string? line, bool fromStdout)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.Enqueue(line);
            if (output.Count > KeptLines)
            {
                output.Dequeue();
            }
        }

        if (fromStdout && StartedLine().Match(line) is { Success: true } match)
        {
            started.TrySetResult(match);
        }
    }

    /// <summary>The exit code of a child that has exited.</summary>
    private string ExitCode()
    {
        // Drains the redirected output too, so the message has the child's last words.
        process.WaitForExit();
        return process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
