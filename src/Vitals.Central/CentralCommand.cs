using System.CommandLine;

namespace Vitals.Central;

/// <summary>The <c>vitals central</c> verb.</summary>
public static class CentralCommand
{
    /// <summary>Creates the verb; errors go to <paramref name="error"/> with exit code 2.</summary>
    public static Command Create(TextWriter error, Func<string, string?>? environment = null)
    {
        var env = environment ?? Environment.GetEnvironmentVariable;
        var urls = new Option<string?>("--urls") { Description = $"Where the overview and API listen (default {CentralOptions.DefaultUrls})." };
        var data = new Option<string?>("--data") { Description = $"Directory for central's users, sessions and audit (default {CentralOptions.DefaultData})." };
        var influx = new Option<string?>("--influx") { Description = "The shared InfluxDB the sites forward to, for trends on the chair page (http://host:8086/?db=NAME). Without it: live values only." };
        var prefix = new Option<string?>("--topic-prefix") { Description = $"First topic level, the gateways' mqtt.topicPrefix (default {MqttOptions.DefaultTopicPrefix})." };
        var silent = new Option<int>("--site-silent-after") { Description = "Seconds without any message from a site before it shows offline.", DefaultValueFactory = _ => CentralOptions.DefaultSilentSeconds };
        var unacked = new Option<int>("--unacked-after") { Description = "Seconds an alarm may stay unacknowledged at its site before central highlights it.", DefaultValueFactory = _ => CentralOptions.DefaultUnackedSeconds };
        var clientId = new Option<string?>("--mqtt-client-id") { Description = "Client id of central's persistent broker session (default: generated once and kept in --data). One id per central." };
        var mqtt = new MqttCliOptions();
        var central = new Command("central", "Show every site's chairs and alarms on one overview, read from the broker the sites' gateways publish to. Read-only towards the sites.")
        {
            urls, data, influx, prefix, silent, unacked, clientId,
        };
        mqtt.AddTo(central);
        central.SetAction((parse, ct) =>
        {
            var options = new CentralOptions
            {
                Urls = parse.GetValue(urls) ?? CentralOptions.DefaultUrls,
                Data = parse.GetValue(data) ?? CentralOptions.DefaultData,
                Influx = parse.GetValue(influx),
                SilentSeconds = parse.GetValue(silent),
                UnackedSeconds = parse.GetValue(unacked),
                ClientId = parse.GetValue(clientId),
                Mqtt = mqtt.Apply(parse, null) ?? new MqttOptions(),
            };
            options.Mqtt.TopicPrefix = parse.GetValue(prefix) ?? options.Mqtt.TopicPrefix;
            return RunAsync(options, error, env, ct);
        });
        return central;
    }

    /// <summary>Validates, starts and runs central until <paramref name="ct"/> or Ctrl+C; 2 for bad settings.</summary>
    public static async Task<int> RunAsync(CentralOptions options, TextWriter error, Func<string, string?> environment, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(error);
        var errors = options.Validate(environment);
        if (errors.Count > 0)
        {
            return Fail(error, string.Join(Environment.NewLine + "  ", ["central settings are not usable:", .. errors]));
        }

        try
        {
            Directory.CreateDirectory(options.Data);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(error, $"--data: cannot create '{options.Data}': {e.Message}. Fix: choose a writable directory.");
        }

        await using var app = CentralApp.Build(options, environment: environment);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch (ConfigException e)
        {
            return Fail(error, e.Message);
        }
        catch (IOException e)
        {
            return Fail(error, $"--urls: cannot listen on {options.Urls}: {e.Message}. Fix: stop the other program using it or pass --urls http://127.0.0.1:PORT.");
        }

        await Console.Out.WriteLineAsync($"Vitals central: every site under '{options.Mqtt.TopicPrefix}/' from {options.Mqtt.Broker()}, overview at {string.Join(", ", options.Urls.Split(';'))}. Ctrl+C stops.").ConfigureAwait(false);
        await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
        return 0;
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine($"vitals: {message}");
        return 2;
    }
}
