using System.CommandLine;
using System.Globalization;
using System.Text;
using Vitals.Core;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;

namespace Vitals.Simulator.Cli;

/// <summary>
/// <c>vitals-sim mqtt</c>: one simulated monitor publishing the Vitals JSON batch schema (hardware-docs/mqtt.md) to
/// <c>&lt;prefix&gt;/&lt;site&gt;/&lt;chair&gt;/obs</c>, one message per monitor second, QoS 1.
/// </summary>
public static class MqttCommand
{
    /// <param name="error">Where errors and the closing summary go (stderr in the tool).</param>
    public static Command Create(TextWriter error)
    {
        var broker = new Option<string>("--broker") { Description = "mqtt://[user@]host[:port] or mqtts://...; password from VITALS_MQTT_PASSWORD.", Required = true };
        var ca = new Option<string?>("--ca") { Description = "PEM CA file for mqtts." };
        var site = new Option<string>("--site") { Description = "Site topic level.", DefaultValueFactory = _ => "clinic" };
        var chair = new Option<string>("--chair") { Description = "Chair topic level (a chair with an mqtt device in the gateway).", DefaultValueFactory = _ => "chair-1" };
        var device = new Option<string>("--device") { Description = "Device id sent in each message.", DefaultValueFactory = _ => "sim-mqtt" };
        var prefix = new Option<string>("--topic-prefix") { Description = "First topic level.", DefaultValueFactory = _ => "vitals" };
        var scenario = Vitals.Simulator.Cli.ProtocolCommands.ScenarioOption();
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var timeScale = new Option<double>("--time-scale") { Description = "Scenario minutes per monitor minute.", DefaultValueFactory = _ => 1 };
        var stepMs = new Option<int>("--step-ms") { Description = "Real milliseconds per monitor second (1000 = real time; 0 = as fast as possible).", DefaultValueFactory = _ => 1000 };
        var count = new Option<int>("--count") { Description = Vitals.Simulator.Cli.ProtocolCommands.CountHelp, DefaultValueFactory = _ => 0 };
        var command = new Command("mqtt", "Publish a scenario's readings over MQTT as Vitals JSON (simulated data).")
        {
            broker, ca, site, chair, device, prefix, scenario, seed, timeScale, stepMs, count,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (!Vitals.Simulator.Cli.ProtocolCommands.TryScenario(parse, scenario, out var kind, out var scenarioError))
            {
                return Fail(error, scenarioError);
            }

            var scale = parse.GetValue(timeScale);
            var step = parse.GetValue(stepMs);
            var n = parse.GetValue(count);
            if (scale is <= 0 or > 10_000)
            {
                return Fail(error, $"--time-scale: {scale.ToString(CultureInfo.InvariantCulture)} is out of range. Fix: use a number above 0 and at most 10000.");
            }

            if (step is < 0 or > 60_000)
            {
                return Fail(error, $"--step-ms: {step} is out of range. Fix: use 0 (as fast as possible) to 60000.");
            }

            if (n < 0)
            {
                return Fail(error, $"--count: {n} is not a count. Fix: use 0 (run until Ctrl+C) or a number of messages to publish.");
            }

            var topic = $"{parse.GetValue(prefix)}/{parse.GetValue(site)}/{parse.GetValue(chair)}/obs";
            MqttClientOptions options;
            try
            {
                options = MqttUrl.Parse(parse.GetValue(broker)!);
                if (options.Username is not null && options.Password is null)
                {
                    options = options with { Password = Environment.GetEnvironmentVariable("VITALS_MQTT_PASSWORD") };
                }

                options = options with { CaFile = parse.GetValue(ca) };
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                return Fail(error, $"--broker: {e.Message}");
            }

            try
            {
                MqttTopic.ValidateTopicName(topic);
            }
            catch (MqttProtocolException e)
            {
                return Fail(error, $"--topic-prefix/--site/--chair: '{topic}' is not a topic to publish to ({e.Message}). Fix: use names without the wildcards + and #.");
            }

            await using var client = new MqttClient(options);
            try
            {
                await client.ConnectAsync(ct).ConfigureAwait(false);
            }
            catch (MqttConnectException e)
            {
                return Fail(error, $"--broker: {e.Message}");
            }

            var time = TimeProvider.System;
            var patient = new SimulatedPatient(new SimulatorOptions(kind, parse.GetValue(seed), scale));
            var readings = new List<SimReading>();
            var dev = parse.GetValue(device)!;
            using var timer = step > 0 ? new PeriodicTimer(TimeSpan.FromMilliseconds(step), time) : null;
            var sent = 0;
            try
            {
                // Counts publishes, like lines (serial) and messages (hl7): silent monitor seconds do not count.
                while (n == 0 || sent < n)
                {
                    if (timer is not null && !await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                    {
                        break;
                    }

                    readings.Clear();
                    patient.Step(readings);
                    if (readings.Count == 0)
                    {
                        continue;
                    }

                    await client.PublishAsync(topic, Batch(dev, time.GetUtcNow(), readings), MqttQualityOfService.AtLeastOnce, cancellationToken: ct).ConfigureAwait(false);
                    sent++;
                }

                await client.FlushAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            error.WriteLine($"vitals-sim: published {sent} messages to {topic}.");
            return 0;
        });
        return command;
    }

    /// <summary>The batch form of the schema: <c>{"device":..,"time":..,"readings":[{"sign":..,"value":..,"unit":..,"quality":"ok"}]}</c>.</summary>
    internal static byte[] Batch(string device, DateTimeOffset at, List<SimReading> readings)
    {
        var json = new StringBuilder();
        json.Append(CultureInfo.InvariantCulture, $"{{\"device\":{System.Text.Json.JsonSerializer.Serialize(device)},\"time\":\"{at:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"readings\":[");
        for (var i = 0; i < readings.Count; i++)
        {
            var info = readings[i].Sign.Info();
            json.Append(i == 0 ? "" : ",")
                .Append(CultureInfo.InvariantCulture, $"{{\"sign\":\"{info.ShortName}\",\"value\":{Math.Round(readings[i].Value, 2).ToString(CultureInfo.InvariantCulture)},\"unit\":\"{info.Unit}\"}}");
        }

        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine($"vitals-sim: {message}");
        return 2;
    }
}
