using Microsoft.AspNetCore.Http.Json;
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
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        var urls = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        builder.WebHost.UseUrls(urls);
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.Configure<JsonOptions>(o => Json.Configure(o.SerializerOptions));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = WebSecurity.DescribeStatus);
        builder.Services.AddVitalsWebSecurity();

        // Central's own store holds only users, sessions and the audit of logins; clinical data stays at the sites.
        var store = new SqliteStore(Path.Combine(options.Data, "central.db"), Console.WriteLine);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(new UserStore(store.Path));
        builder.Services.AddSingleton<SessionRegistry>();
        builder.Services.AddSingleton<LoginThrottle>();
        builder.Services.AddSingleton<UserService>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<EventHub>();
        builder.Services.AddVitalsAuth(options);
        builder.Services.AddSingleton(new SiteBook(
            options.Mqtt.TopicPrefix, TimeSpan.FromSeconds(options.SilentSeconds), TimeSpan.FromSeconds(options.UnackedSeconds), options.MaxPayloadBytes));
        builder.Services.AddSingleton(sp => new CentralLink(
            options, sp.GetRequiredService<SiteBook>(), sp.GetRequiredService<EventHub>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<CentralLink>>(), env));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CentralLink>());
        if (options.Influx is { } influx)
        {
            builder.Services.AddSingleton(new InfluxHistory(
                InfluxEndpoint.Parse(influx, env), new HttpClient { Timeout = TimeSpan.FromSeconds(20) }));
        }

        var app = builder.Build();
        if (WebSecurity.PlainHttpBeyondLoopback(urls) is { Count: > 0 } exposed)
        {
            LogPlainHttp(app.Logger, string.Join(", ", exposed));
        }

        app.Services.GetRequiredService<UserService>().Bootstrap(false, Console.Out, env);
        app.UseVitalsWebSecurity(urls);
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapCentral(options);
        return app;
    }

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Listening on {Urls} over plain http beyond this machine: passwords and session cookies cross the network in clear. Serve https (see README, Security) or listen on 127.0.0.1 behind a TLS proxy.")]
    private static partial void LogPlainHttp(ILogger logger, string urls);
}
