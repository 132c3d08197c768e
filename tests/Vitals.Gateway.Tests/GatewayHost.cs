using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vitals.Gateway.Config;

namespace Vitals.Gateway.Tests;

/// <summary>A real gateway on a free loopback port with its own data directory, for end-to-end tests.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    /// <summary>The admin password tests start non-demo gateways with.</summary>
    public const string AdminPassword = "test-admin-password";

    private GatewayHost(WebApplication app, string dataDir, Uri address)
    {
        App = app;
        DataDir = dataDir;
        Address = address;
        Http = NewClient();
    }

    public WebApplication App { get; }

    public string DataDir { get; }

    public Uri Address { get; }

    public HttpClient Http { get; }

    /// <summary>Starts a gateway for <paramref name="options"/> with simulated monitors stepping every <paramref name="step"/>.</summary>
    /// <summary>Starts a gateway; a non-demo one gets an <c>admin</c> account, and <see cref="Http"/> is signed in as it unless <paramref name="signIn"/> is false.</summary>
    /// <remarks>
    /// <paramref name="environment"/> adds environment variables; <paramref name="beforeStart"/> runs between build and start;
    /// <paramref name="port"/> restarts a gateway on the port it had (0: a free one); <paramref name="logging"/> configures
    /// logging after the default (warnings and up).
    /// </remarks>
    public static async Task<GatewayHost> StartAsync(
        GatewayOptions options, TimeSpan step, string? dataDir = null, bool signIn = true, Func<string, string?>? environment = null,
        Action<WebApplication>? beforeStart = null, int port = 0, Action<ILoggingBuilder>? logging = null)
    {
        dataDir ??= Directory.CreateTempSubdirectory("vitals-e2e-").FullName;
        options.Urls = $"http://127.0.0.1:{port}";
        options.Data = dataDir;
        var app = GatewayApp.Build(
            options, step, builder => { builder.SetMinimumLevel(LogLevel.Warning); logging?.Invoke(builder); }, name => name == "VITALS_ADMIN_PASSWORD" ? AdminPassword : environment?.Invoke(name));
        beforeStart?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var host = new GatewayHost(app, dataDir, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"));
        if (!options.Demo && signIn)
        {
            await host.LoginAsync(host.Http, "admin", AdminPassword);
        }

        return host;
    }

    /// <summary>A new client with its own cookie jar (its own session).</summary>
    public HttpClient NewClient() =>
        new(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = Address,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>Fetches an antiforgery token for <paramref name="client"/>'s session.</summary>
    public static async Task<string> CsrfAsync(HttpClient client)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync(new Uri("api/auth/csrf", UriKind.Relative)));
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>Sends <paramref name="body"/> as JSON with a fresh antiforgery token.</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Add("X-CSRF-TOKEN", await CsrfAsync(client));
        if (body is not null)
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(body);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Replaces a chair's devices with the admin API (as <see cref="Http"/>), failing the test unless answered 200; returns the answer.</summary>
    public async Task<System.Text.Json.JsonElement> PutDevicesAsync(string chair, params object[] devices)
    {
        using var response = await SendAsync(Http, HttpMethod.Put, $"api/admin/chairs/{chair}/devices", new { devices });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"PUT {chair} devices: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Logs <paramref name="client"/> in, failing the test if refused.</summary>
    public async Task LoginAsync(HttpClient client, string name, string password)
    {
        var response = await SendAsync(client, HttpMethod.Post, "api/auth/login", new { name, password });
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
    }

    public static GatewayOptions OneChair(string scenario, double timeScale, int seed = 3) => new()
    {
        Site = "test-site",
        Chairs =
        [
            new ChairOptions
            {
                Id = "chair-1",
                Name = "Chair 1",
                Devices = [new DeviceOptions { Id = "sim-1", Scenario = scenario, Seed = seed, TimeScale = timeScale }],
            },
        ],
    };

    /// <summary>The old name of <see cref="Eventually.TrueAsync(Func{Task{bool}}, string, TimeSpan?, CancellationToken)"/>, kept for callers on branches in flight.</summary>
    public static Task WaitUntil(TimeSpan timeout, Func<Task<bool>> condition) => Eventually.TrueAsync(condition, "the condition", timeout);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}
