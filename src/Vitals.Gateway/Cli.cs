using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;

namespace Vitals.Gateway;

/// <summary>The <c>vitals</c> command line: <c>demo</c>, <c>run</c>, <c>central</c> and <c>decode</c>.</summary>
public static class Cli
{
    /// <summary>Parses <paramref name="args"/> and runs the chosen verb. Returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? error = null)
    {
        var parse = BuildRoot(error ?? Console.Error).Parse(args);
        var code = await parse.InvokeAsync().ConfigureAwait(false);

        // Usage errors exit 2 on every verb (System.CommandLine's own parse errors return 1).
        return parse.Errors.Count > 0 ? 2 : code;
    }

    /// <summary>The command tree (exposed for tests of help text and parsing).</summary>
    public static RootCommand BuildRoot(TextWriter error)
    {
        var urls = new Option<string?>("--urls") { Description = $"Where the dashboard and API listen (default {GatewayOptions.DefaultUrls}; loopback only unless you choose otherwise)." };
        var data = new Option<string?>("--data") { Description = $"Directory for the embedded SQLite store (default {GatewayOptions.DefaultData})." };
        var site = new Option<string?>("--site") { Description = $"Clinic site name used in stored and published data (default {GatewayOptions.DefaultSite})." };
        var influx = new Option<string?>("--influx")
        {
            Description = "Forward everything to InfluxDB: http://host:port/?db=NAME[&rp=RP] (1.x) or http://host:port/?org=ORG&bucket=BUCKET (2.x). "
                + "Credentials from VITALS_INFLUX_USERNAME/VITALS_INFLUX_PASSWORD or VITALS_INFLUX_TOKEN, never in the URL.",
        };

        var mqtt = new MqttCliOptions();

        var chairs = new Option<int>("--chairs") { Description = "Number of simulated chairs (1-64).", DefaultValueFactory = _ => 8 };
        var timeScale = new Option<double>("--time-scale") { Description = "Scenario minutes per real minute; 30 plays a 30-minute infusion course in one minute.", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same seed replays the same demo.", DefaultValueFactory = _ => 1 };
        var demo = new Command("demo", "Run simulated chairs (stable, hypotension, bradycardia, tachycardia, desaturation, feed loss) with the dashboard. Demo data only.")
        {
            urls, data, site, influx, chairs, timeScale, seed,
        };
        mqtt.AddTo(demo);
        demo.SetAction((parse, ct) =>
        {
            var count = parse.GetValue(chairs);
            var scale = parse.GetValue(timeScale);
            if (count is < 1 or > 64)
            {
                return Fail(error, $"--chairs: {count} is out of range. Fix: use 1 to 64.");
            }

            if (scale is <= 0 or > 10_000)
            {
                return Fail(error, $"--time-scale: {scale} is out of range. Fix: use a number above 0 and at most 10000.");
            }

            var options = GatewayApp.DemoOptions(count, scale, parse.GetValue(seed));
            options.Influx = parse.GetValue(influx);
            options.Mqtt = mqtt.Apply(parse, options.Mqtt);
            return StartAsync(options, parse.GetValue(urls), parse.GetValue(data), parse.GetValue(site), "vitals demo", error, ct);
        });

        var config = new Option<FileInfo>("--config") { Description = "JSON config file (see README, Configuration).", Required = true };
        var run = new Command("run", "Run the gateway from a JSON config file.") { config, urls, data, site, influx };
        mqtt.AddTo(run);
        run.SetAction((parse, ct) =>
        {
            GatewayOptions options;
            try
            {
                options = ConfigLoader.Load(parse.GetValue(config)!.FullName);
            }
            catch (ConfigException e)
            {
                return Fail(error, e.Message);
            }

            options.Influx = parse.GetValue(influx) ?? options.Influx;
            options.Mqtt = mqtt.Apply(parse, options.Mqtt);
            return StartAsync(options, parse.GetValue(urls), parse.GetValue(data), parse.GetValue(site), parse.GetValue(config)!.Name, error, ct);
        });

        return new RootCommand("Vitals: a vitals monitoring gateway for infusion chairs. A secondary display and alerting aid; the bedside monitor's alarms remain primary.")
        {
            demo, run, Central.CentralCommand.Create(error), DecodeCommand.Create(error),
        };
    }

    private static async Task<int> StartAsync(
        GatewayOptions options, string? urls, string? data, string? site, string source, TextWriter error, CancellationToken ct)
    {
        options.Urls = urls ?? options.Urls;
        options.Data = data ?? options.Data;
        options.Site = site ?? options.Site;
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            return await Fail(error, ConfigLoader.Format(source, errors)).ConfigureAwait(false);
        }

        try
        {
            Directory.CreateDirectory(options.Data);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return await Fail(error, $"--data: cannot create '{options.Data}': {e.Message}. Fix: choose a writable directory.").ConfigureAwait(false);
        }

        await using var app = GatewayApp.Build(options);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch (ConfigException e)
        {
            return await Fail(error, e.Message).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            return await Fail(error, $"--urls: cannot listen on {options.Urls}: {e.Message}. Fix: stop the other program using it or pass --urls http://127.0.0.1:PORT.").ConfigureAwait(false);
        }

        await Console.Out.WriteLineAsync(StartedLine(app, options)).ConfigureAwait(false);
        await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// The line saying the gateway is up, with the addresses it actually bound: with port 0 (tests, scripts) the kernel
    /// picks the port, and this line is the one place a supervising process can read it from.
    /// </summary>
    private static string StartedLine(WebApplication app, GatewayOptions options)
    {
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var dashboard = bound is { Count: > 0 } ? string.Join(", ", bound) : string.Join(", ", options.Urls.Split(';'));
        var hl7 = app.Services.GetService<Hl7FeedService>()?.LocalEndPoint is { } endPoint ? $", HL7/MLLP on {endPoint}" : "";
        return $"Vitals {(options.Demo ? "demo" : "gateway")} for site '{options.Site}': {options.Chairs.Count} chairs, dashboard at {dashboard}{hl7}, "
            + $"data in {Path.GetFullPath(options.Data)}. Ctrl+C stops.";
    }

    private static Task<int> Fail(TextWriter error, string message)
    {
        error.WriteLine($"vitals: {message}");
        return Task.FromResult(2);
    }
}
