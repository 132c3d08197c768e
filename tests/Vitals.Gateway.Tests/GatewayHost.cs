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
    private GatewayHost(WebApplication app, string dataDir, Uri address)
    {
        App = app;
        DataDir = dataDir;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public string DataDir { get; }

    public Uri Address { get; }

    public HttpClient Http { get; }

    /// <summary>Starts a gateway for <paramref name="options"/> with simulated monitors stepping every <paramref name="step"/>.</summary>
    public static async Task<GatewayHost> StartAsync(GatewayOptions options, TimeSpan step, string? dataDir = null)
    {
        dataDir ??= Directory.CreateTempSubdirectory("vitals-e2e-").FullName;
        options.Urls = "http://127.0.0.1:0";
        options.Data = dataDir;
        var app = GatewayApp.Build(options, step, logging => logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new GatewayHost(app, dataDir, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"));
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

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}
