using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vitals.Central;

namespace Vitals.Gateway.Tests.Topology;

/// <summary>A real <c>vitals central</c> host on a free loopback port, reading one broker; <see cref="Http"/> is signed in as admin.</summary>
internal sealed class CentralHost : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly string data;

    private CentralHost(WebApplication app, string data, HttpClient http)
    {
        this.app = app;
        this.data = data;
        Http = http;
    }

    public HttpClient Http { get; }

    /// <summary>Starts central against 127.0.0.1:<paramref name="brokerPort"/>; a site silent for <paramref name="silentSeconds"/> counts as offline.</summary>
    public static async Task<CentralHost> StartAsync(int brokerPort, string prefix, int silentSeconds = CentralOptions.DefaultSilentSeconds)
    {
        var data = Directory.CreateTempSubdirectory("vitals-central-").FullName;
        var options = new CentralOptions
        {
            Urls = "http://127.0.0.1:0",
            Data = data,
            Mqtt = new MqttOptions { Url = $"mqtt://127.0.0.1:{brokerPort}", TopicPrefix = prefix },
            SilentSeconds = silentSeconds,
        };
        Assert.Empty(options.Validate(_ => null));
        var app = CentralApp.Build(options, l => l.SetMinimumLevel(LogLevel.Warning), name => name == "VITALS_ADMIN_PASSWORD" ? GatewayHost.AdminPassword : null);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(address + "/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        using var login = await GatewayHost.SendAsync(http, HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
        Assert.Equal(System.Net.HttpStatusCode.NoContent, login.StatusCode);
        return new CentralHost(app, data, http);
    }

    /// <summary><c>GET /api/sites</c>.</summary>
    public async Task<JsonElement> SitesAsync() => await GetAsync("api/sites");

    /// <summary><c>GET /api/alarms</c>.</summary>
    public async Task<JsonElement> AlarmsAsync() => await GetAsync("api/alarms");

    /// <summary>The site named <paramref name="site"/> in <c>/api/sites</c>, or null.</summary>
    public async Task<JsonElement?> SiteAsync(string site) =>
        (await SitesAsync()).EnumerateArray().Where(s => s.GetProperty("site").GetString() == site).Select(s => (JsonElement?)s).FirstOrDefault();

    /// <summary>True when the site is listed, its gateway is live, and <paramref name="chairs"/> chairs all show a heart rate.</summary>
    public async Task<bool> SiteLiveAsync(string site, int chairs)
    {
        if (await SiteAsync(site) is not { } s || !s.GetProperty("gateway").GetProperty("live").GetBoolean())
        {
            return false;
        }

        var listed = s.GetProperty("chairs").EnumerateArray().ToList();
        return listed.Count == chairs && listed.All(c => c.GetProperty("values").TryGetProperty("hr", out _));
    }

    /// <summary>True when <c>/api/alarms</c> lists an alarm of <paramref name="site"/> with <paramref name="rule"/> (on <paramref name="chair"/> when given).</summary>
    public async Task<bool> HasAlarmAsync(string site, string rule, string? chair = null) =>
        (await AlarmsAsync()).EnumerateArray().Any(a => a.GetProperty("site").GetString() == site && a.GetProperty("rule").GetString() == rule
            && (chair is null || a.GetProperty("chair").GetString() == chair));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private async Task<JsonElement> GetAsync(string path)
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync(new Uri(path, UriKind.Relative)));
        return doc.RootElement.Clone();
    }
}
