using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Api;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;
using Vitals.Gateway.Mqtt;
using Vitals.Gateway.Pipeline;
using Vitals.Gateway.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway;

/// <summary>Builds the gateway host from validated options. Program.cs and tests both start it here.</summary>
public static partial class GatewayApp
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
        var urls = VitalsWebHost.SplitUrls(options.Urls);
        var builder = VitalsWebHost.CreateBuilder(urls, logging);
        builder.Services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJson.Metadata));

        var time = TimeProvider.System;
        var dbPath = Path.Combine(options.Data, "vitals.db");
        var store = new SqliteStore(dbPath, Console.WriteLine); // before logging exists: a long upgrade is announced
        var bindingProblems = ChairBindings.ApplyStored(options, store);
        var feeds = new FeedRegistry();
        var live = new LiveState(options.Chairs.Select(c => (c.Id, c.DisplayName)), feeds, new StalePolicy(options.StaleSeconds), time);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(feeds);
        builder.Services.AddSingleton(live);
        builder.Services.AddSingleton(new EventHub(GatewayJson.Options));
        builder.Services.AddSingleton(_ => store);
        builder.Services.AddVitalsAccounts(options);
        builder.Services.AddVitalsOpenApi(options);
        builder.Services.AddSingleton(_ => new AlarmEngine(site: options.Site));
        builder.Services.AddSingleton<AlarmService>();
        builder.Services.AddSingleton<LoopSupervisor>();
        builder.Services.AddSingleton<AlarmDispatcher>();
        builder.Services.AddSingleton<StoreWriter>();
        builder.Services.AddSingleton(new DeviceClocks(options.DeviceClock()));
        builder.Services.AddSingleton<ObservationPipeline>();

        // Order matters for shutdown (reverse order): feeds stop first, then the pipeline and maintenance, then the alarm
        // dispatcher drains into the store writer, then the store drains.
        builder.Services.AddSingleton(sp => new StorageMaintenance(
            options, sp.GetRequiredService<SqliteStore>(), sp.GetRequiredService<StoreWriter>(), sp.GetRequiredService<FeedRegistry>(),
            sp.GetRequiredService<AlarmService>(), sp.GetRequiredService<LoopSupervisor>(), time, sp.GetRequiredService<ILoggerFactory>(), environment));
        builder.Services.AddSingleton(sp => new MqttBridge(
            options, sp.GetRequiredService<ObservationPipeline>(), sp.GetRequiredService<SqliteStore>(), sp.GetRequiredService<StoreWriter>(), sp.GetRequiredService<FeedRegistry>(), sp.GetRequiredService<LiveState>(),
            sp.GetRequiredService<AlarmService>(), sp.GetRequiredService<LoopSupervisor>(), time, sp.GetRequiredService<ILogger<MqttBridge>>(), environment ?? Environment.GetEnvironmentVariable));

        // MQTT starts first and stops last, so every alarm event from start to the final drain is queued and flushed.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MqttBridge>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StoreWriter>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlarmDispatcher>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StorageMaintenance>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ObservationPipeline>());
        builder.Services.AddSingleton(sp => new FeedManager(options, sp, simulatorStep ?? DefaultSimulatorStep));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FeedManager>());
        builder.Services.AddDeviceFeeds(options);

        var app = builder.Build();
        foreach (var problem in bindingProblems)
        {
            LogBindingProblem(app.Logger, problem);
        }

        app.UseVitalsWeb(urls, environment ?? Environment.GetEnvironmentVariable);
        app.MapPages(options);
        app.MapAuthApi();
        app.MapVitalsApi(options);
        app.MapNurseApi(options);
        app.MapAdminApi();
        app.MapKioskApi(options);
        app.MapOpenApi().RequireRead(options);
        return app;
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Bindings: {Problem}")]
    private static partial void LogBindingProblem(ILogger logger, string problem);
}
