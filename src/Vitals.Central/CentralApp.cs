using Vitals.Storage.Influx;
using Vitals.Storage.Sqlite;

namespace Vitals.Central;

/// <summary>Builds the central station host from validated options: Vitals.Web's login and security, plus the site book.</summary>
public static partial class CentralApp
{
    /// <summary>Creates the web application; <paramref name="environment"/> supplies the broker password and the first admin password.</summary>
    public static WebApplication Build(CentralOptions options, Action<ILoggingBuilder>? logging = null, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var env = environment ?? Environment.GetEnvironmentVariable;
        var urls = VitalsWebHost.SplitUrls(options.Urls);
        var builder = VitalsWebHost.CreateBuilder(urls, logging);
        builder.Services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, CentralJson.Metadata));

        // Central's own store holds only users, sessions, the audit of logins and its broker session's client id; clinical
        // data stays at the sites.
        var store = new SqliteStore(Path.Combine(options.Data, "central.db"), Console.WriteLine);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(new EventHub(CentralJson.Options));
        builder.Services.AddVitalsAccounts(options);
        builder.Services.AddSingleton(new SiteBook(
            options.Mqtt.TopicPrefix, TimeSpan.FromSeconds(options.SilentSeconds), TimeSpan.FromSeconds(options.UnackedSeconds), options.MaxPayloadBytes));
        builder.Services.AddSingleton(sp => new CentralLink(
            options, sp.GetRequiredService<SiteBook>(), sp.GetRequiredService<EventHub>(), store, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<CentralLink>>(), env));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CentralLink>());
        if (options.Influx is { } influx)
        {
            builder.Services.AddSingleton(new InfluxHistory(
                InfluxEndpoint.Parse(influx, env), new HttpClient { Timeout = TimeSpan.FromSeconds(20) }));
        }

        var app = builder.Build();
        app.UseVitalsWeb(urls, env);
        app.MapCentral(options);
        return app;
    }

}
