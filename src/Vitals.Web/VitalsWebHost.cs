using Microsoft.AspNetCore.Http.Json;
using Vitals.Storage.Sqlite;

namespace Vitals.Web;

/// <summary>
/// What the gateway and the central station set up the same way: Kestrel on the configured URLs, console logging, JSON,
/// problem details, security headers, users, sessions and sign-in. Each host adds its own services and endpoints between
/// <see cref="CreateBuilder"/> and <see cref="UseVitalsWeb"/>.
/// </summary>
public static partial class VitalsWebHost
{
    /// <summary>The <c>--urls</c> value (semicolon-separated) as a list.</summary>
    public static IReadOnlyList<string> SplitUrls(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A slim web application builder listening on <paramref name="urls"/>, with the shared logging, JSON and security services.</summary>
    public static WebApplicationBuilder CreateBuilder(IReadOnlyList<string> urls, Action<ILoggingBuilder>? logging)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.WebHost.UseUrls([.. urls]);

        // The slim builder leaves out Kestrel's https setup; this makes https URLs and the Kestrel certificate settings
        // (ASPNETCORE_Kestrel__Certificates__Default__Path / __Password) work as the README documents.
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.Configure<JsonOptions>(o => Json.UseGeneratedMetadata(Json.Configure(o.SerializerOptions)));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = WebSecurity.DescribeStatus);
        builder.Services.AddVitalsWebSecurity();
        return builder;
    }

    /// <summary>Users (kept in the host's registered <see cref="SqliteStore"/>), server-side sessions, login throttling, the audit of sign-ins and the auth rules.</summary>
    public static IServiceCollection AddVitalsAccounts(this IServiceCollection services, IWebAccessOptions options)
    {
        services.AddSingleton(sp => new UserStore(sp.GetRequiredService<SqliteStore>().Path));
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<UserService>();
        services.AddSingleton<AuditLog>();
        return services.AddVitalsAuth(options);
    }

    /// <summary>
    /// Warns about plain http beyond this machine, creates the first admin when there is none (password from
    /// <c>VITALS_ADMIN_PASSWORD</c> via <paramref name="environment"/>), and adds the shared middleware in order:
    /// security headers first, then static files, authentication, authorization and rate limiting.
    /// </summary>
    public static WebApplication UseVitalsWeb(this WebApplication app, IReadOnlyList<string> urls, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(app);
        var demo = app.Services.GetRequiredService<IWebAccessOptions>().Demo;
        if (!demo && WebSecurity.PlainHttpBeyondLoopback(urls) is { Count: > 0 } exposed)
        {
            LogPlainHttp(app.Logger, string.Join(", ", exposed));
        }

        app.Services.GetRequiredService<UserService>().Bootstrap(demo, Console.Out, environment);
        app.UseVitalsWebSecurity(urls);
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Listening on {Urls} over plain http beyond this machine: passwords and session cookies cross the network in clear. Serve https (see README, Security) or listen on 127.0.0.1 behind a TLS proxy.")]
    private static partial void LogPlainHttp(ILogger logger, string urls);
}
