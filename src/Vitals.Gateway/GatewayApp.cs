using Microsoft.AspNetCore.Http.Json;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Api;
using Vitals.Gateway.Auth;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;
using Vitals.Gateway.Mqtt;
using Vitals.Gateway.Pipeline;
using Vitals.Gateway.Storage;
using Vitals.Simulator;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway;

/// <summary>Builds the gateway host from validated options. Program.cs and tests both start it here.</summary>
public static class GatewayApp
{
    /// <summary>Seconds between simulator steps in real time.</summary>
    public static readonly TimeSpan DefaultSimulatorStep = TimeSpan.FromSeconds(1);

    /// <summary>The demo's chairs: a mix of scenarios so an alarm and a lost feed show within a minute.</summary>
    public static GatewayOptions DemoOptions(int chairs = 8, double timeScale = 30, int seed = 1)
    {
        string[] mix = ["stable", "hypotension", "bradycardia", "stable", "tachycardia", "feed-loss", "desaturation", "stable"];
        var options = new GatewayOptions { Demo = true };
        for (var i = 0; i < chairs; i++)
        {
            options.Chairs.Add(new ChairOptions
            {
                Id = $"chair-{i + 1}",
                Name = $"Chair {i + 1}",
                Devices =
                [
                    new DeviceOptions { Id = $"sim-{i + 1}", Kind = "simulator", Scenario = mix[i % mix.Length], Seed = seed + i, TimeScale = timeScale },
                ],
            });
        }

        return options;
    }

    /// <summary>Creates the web application. <paramref name="simulatorStep"/> lets tests run simulated monitors faster.</summary>
    public static WebApplication Build(
        GatewayOptions options, TimeSpan? simulatorStep = null, Action<ILoggingBuilder>? logging = null, Func<string, string?>? environment = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.Configure<JsonOptions>(o => Json.Configure(o.SerializerOptions));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddProblemDetails();

        var time = TimeProvider.System;
        var feeds = new FeedRegistry();
        var live = new LiveState(options.Chairs.Select(c => (c.Id, c.DisplayName)), feeds, new StalePolicy(options.StaleSeconds), time);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(feeds);
        builder.Services.AddSingleton(live);
        builder.Services.AddSingleton<EventHub>();
        var dbPath = Path.Combine(options.Data, "vitals.db");
        builder.Services.AddSingleton(_ => new SqliteStore(dbPath));
        builder.Services.AddSingleton(sp => new UserStore(sp.GetRequiredService<SqliteStore>().Path));
        builder.Services.AddSingleton<UserService>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddVitalsAuth(options);
        builder.Services.AddVitalsOpenApi(options);
        builder.Services.AddSingleton(_ => new AlarmEngine(site: options.Site));
        builder.Services.AddSingleton<AlarmService>();
        builder.Services.AddSingleton<StoreWriter>();
        builder.Services.AddSingleton<ObservationPipeline>();

        // Order matters for shutdown (reverse order): feeds stop first, then the pipeline, then the store drains.
        builder.Services.AddSingleton(sp => new StorageMaintenance(
            options, sp.GetRequiredService<SqliteStore>(), sp.GetRequiredService<StoreWriter>(), sp.GetRequiredService<FeedRegistry>(),
            sp.GetRequiredService<AlarmService>(), time, sp.GetRequiredService<ILoggerFactory>(), environment));
        builder.Services.AddSingleton(sp => new MqttBridge(
            options, sp.GetRequiredService<ObservationPipeline>(), sp.GetRequiredService<FeedRegistry>(), sp.GetRequiredService<LiveState>(),
            sp.GetRequiredService<AlarmService>(), time, sp.GetRequiredService<ILogger<MqttBridge>>(), environment ?? Environment.GetEnvironmentVariable));

        // MQTT starts first and stops last, so every alarm event from start to the final drain is queued and flushed.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MqttBridge>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StoreWriter>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StorageMaintenance>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ObservationPipeline>());
        builder.Services.AddHostedService(sp => new FeedHost(CreateFeeds(options, sp, simulatorStep ?? DefaultSimulatorStep)));
        builder.Services.AddDeviceFeeds(options);

        var app = builder.Build();
        app.Services.GetRequiredService<UserService>().Bootstrap(options.Demo, Console.Out, environment ?? Environment.GetEnvironmentVariable);
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapPages(options);
        app.MapAuthApi();
        app.MapVitalsApi(options);
        app.MapNurseApi(options);
        app.MapAdminApi();
        app.MapKioskApi(options);
        app.MapOpenApi().RequireRead(options);
        return app;
    }

    private static List<Func<CancellationToken, Task>> CreateFeeds(GatewayOptions options, IServiceProvider sp, TimeSpan step)
    {
        var feeds = sp.GetRequiredService<FeedRegistry>();
        var pipeline = sp.GetRequiredService<ObservationPipeline>();
        var time = sp.GetRequiredService<TimeProvider>();
        var result = new List<Func<CancellationToken, Task>>();
        foreach (var (chair, device, path) in options.AllDevices())
        {
            if (device.Kind == DeviceOptions.SerialKind)
            {
                result.Add(DeviceFeeds.CreateSerial(options, chair, device, path, sp));
            }
            else if (device.Kind == "simulator")
            {
                var status = feeds.Register(chair.Id, device.Id, device.Kind);
                Scenarios.TryParse(device.Scenario, out var scenario);
                var sim = new SimulatorOptions(scenario, device.Seed, device.TimeScale, TimeSpan.FromMinutes(device.NibpCycleMinutes));
                var feed = new SimulatorFeed(options.Site, chair.Id, device.Id, sim, step, status, pipeline.Writer, time);
                result.Add(feed.RunAsync);
            }
        }

        return result;
    }
}
