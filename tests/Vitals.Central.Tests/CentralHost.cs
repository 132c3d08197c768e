using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vitals.Gateway.Tests;

namespace Vitals.Central.Tests;

/// <summary>Central in process on a free loopback port, reading a test broker, with a signed-in admin client.</summary>
public sealed class CentralHost : IAsyncDisposable
{
    private readonly bool ownsData;

    private CentralHost(WebApplication app, Uri address, string data, bool ownsData)
    {
        App = app;
        Address = address;
        Data = data;
        this.ownsData = ownsData;
        Http = NewClient();
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public string Data { get; }

    public HttpClient Http { get; }

    public SiteBook Book => App.Services.GetRequiredService<SiteBook>();

    /// <summary>Starts central; with <paramref name="data"/> (a restart on the same data directory) the caller deletes it.</summary>
    public static async Task<CentralHost> StartAsync(
        int brokerPort, int silentSeconds = 30, int unackedSeconds = 120, bool signIn = true, string? influx = null, string? data = null)
    {
        var ownsData = data is null;
        data ??= Directory.CreateTempSubdirectory("vitals-central-").FullName;
        var options = new CentralOptions
        {
            Urls = "http://127.0.0.1:0",
            Data = data,
            Mqtt = new MqttOptions { Url = $"mqtt://127.0.0.1:{brokerPort}" },
            SilentSeconds = silentSeconds,
            UnackedSeconds = unackedSeconds,
            Influx = influx,
        };
        Assert.Empty(options.Validate(_ => null));
        var app = CentralApp.Build(options, b => b.SetMinimumLevel(LogLevel.Warning), name => name == "VITALS_ADMIN_PASSWORD" ? GatewayHost.AdminPassword : null);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var host = new CentralHost(app, new Uri(address + "/"), data, ownsData);
        if (signIn)
        {
            using var login = await GatewayHost.SendAsync(host.Http, HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
            Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        }

        return host;
    }

    public HttpClient NewClient() =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync(new Uri(path, UriKind.Relative)));
        return doc.RootElement.Clone();
    }

    /// <summary>The site as <c>/api/sites</c> lists it, or null.</summary>
    public async Task<JsonElement?> SiteAsync(string name) =>
        (await GetJsonAsync("api/sites")).EnumerateArray().Where(s => s.GetProperty("site").GetString() == name).Select(s => (JsonElement?)s).FirstOrDefault();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (!ownsData)
        {
            return;
        }

        try
        {
            Directory.Delete(Data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
