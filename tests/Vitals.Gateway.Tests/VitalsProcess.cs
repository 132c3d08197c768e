using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Vitals.Mqtt.Tests.Broker;

namespace Vitals.Gateway.Tests;

/// <summary>
/// <c>vitals run</c> (or <c>vitals central</c>) as a child process on a free loopback port, signed in as admin, so a test
/// can SIGKILL it: no shutdown hook runs, nothing is flushed, an MQTT connection ends without DISCONNECT.
/// </summary>
internal sealed class VitalsProcess : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private readonly Process process;

    private VitalsProcess(Process process, HttpClient http)
    {
        this.process = process;
        Http = http;
    }

    /// <summary>Signed in as admin.</summary>
    public HttpClient Http { get; }

    /// <summary>The process id (for CPU and memory figures).</summary>
    public int Id => process.Id;

    /// <summary><c>vitals run --config <paramref name="config"/> --data <paramref name="data"/></c>.</summary>
    public static Task<VitalsProcess> RunAsync(string config, string data) => StartAsync(["run", "--config", config, "--data", data]);

    /// <summary>Starts <c>vitals <paramref name="arguments"/> --urls http://127.0.0.1:FREE</c> and waits for it to answer and accept the admin login.</summary>
    public static async Task<VitalsProcess> StartAsync(IReadOnlyList<string> arguments)
    {
        var port = MosquittoBroker.FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["VITALS_ADMIN_PASSWORD"] = GatewayHost.AdminPassword },
        };
        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "vitals.dll"), .. arguments, "--urls", $"http://127.0.0.1:{port}"])
        {
            psi.ArgumentList.Add(argument);
        }

        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        var started = new VitalsProcess(process, http);

        // A child process starting the whole host on a busy 2-core machine gets more time than an in-process one.
        await Eventually.TrueAsync(
            async () =>
            {
                Assert.False(process.HasExited, $"vitals {arguments[0]} exited with code {(process.HasExited ? process.ExitCode : 0)}");
                try
                {
                    using var health = await http.GetAsync(new Uri("healthz", UriKind.Relative));
                    return health.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            $"vitals {arguments[0]} to answer /healthz",
            Generous);
        using var login = await started.SendAsync(HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        return started;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null) => GatewayHost.SendAsync(Http, method, path, body);

    /// <summary>GETs <paramref name="path"/> and reads the JSON answer.</summary>
    public async Task<T> GetJsonAsync<T>(string path) =>
        JsonSerializer.Deserialize<T>(await Http.GetStringAsync(new Uri(path, UriKind.Relative)), Json.Options)!;

    /// <summary>SIGKILL: no shutdown hook runs, nothing is flushed.</summary>
    public void Kill()
    {
        process.Kill();
        process.WaitForExit();
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            Kill();
        }

        Http.Dispose();
        process.Dispose();
    }
}
