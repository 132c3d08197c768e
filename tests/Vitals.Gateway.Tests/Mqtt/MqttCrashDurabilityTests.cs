using System.Text;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Storage.Sqlite;
using Xunit.Abstractions;

namespace Vitals.Gateway.Tests.Mqtt;

/// <summary>
/// The broker never sends a QoS 1 message again once we have sent its PUBACK. So every reading published at QoS 1 must
/// survive the gateway dying at any moment: a real mosquitto, a real gateway process, a publisher at full speed,
/// SIGKILL twice mid-stream, restart. QoS 1 is at least once and the store does not deduplicate, so a reading may be
/// stored twice (redelivered after a kill that came between its commit and its PUBACK); none may be missing.
/// </summary>
public sealed class MqttCrashDurabilityTests(ITestOutputHelper output) : IDisposable
{
    private const int Readings = 30_000;
    private const int Kills = 2;
    private const string Prefix = "killtest";
    private const string Site = "mqtt-kill";
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-mqttkill-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Gateway_KilledWithSigkillDuringQos1Readings_EveryPublishedReadingStoredAtLeastOnce()
    {
        // No broker-side limit on what it keeps for the gateway while it is down (mosquitto's default is 1000 messages),
        // so every loss counted here is the gateway's.
        await using var broker = await MosquittoBroker.StartAsync(extraConfig: "max_queued_messages 0");
        var config = Path.Combine(dir, "vitals.json");
        await File.WriteAllTextAsync(config, $$"""
            { "site": "{{Site}}", "mqtt": { "url": "mqtt://127.0.0.1:{{broker.Port}}", "topicPrefix": "{{Prefix}}" },
              "chairs": [ { "id": "chair-1", "devices": [ { "id": "mon-1", "kind": "mqtt" } ] } ] }
            """);

        // Reading n is measured at start + n steps, so each row names its reading; reading -1 is the warm-up probe.
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-15).ToUnixTimeSeconds());
        var topic = $"{Prefix}/{Site}/chair-1/obs";
        await using var publisher = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "kill-publisher", MaxPendingQos1 = Readings + 10,
        });
        await publisher.ConnectAsync();

        var gateway = await GatewayProcess.StartAsync(config, dir, signIn: false);
        try
        {
            // The gateway's subscription is in place once a reading published after it starts is stored.
            await gateway.WaitUntilAsync(
                async () =>
                {
                    await publisher.PublishAsync(topic, Reading(start, -1), MqttQualityOfService.AtLeastOnce);
                    await Task.Delay(200);
                    return StoredReadings(start).Contains(-1);
                },
                "the warm-up reading to be stored",
                TimeSpan.FromMinutes(2));

            // Full speed: every reading is queued at once; the client streams them as fast as the broker takes them.
            var publishing = Task.Run(async () =>
            {
                for (var n = 0; n < Readings; n++)
                {
                    await publisher.PublishAsync(topic, Reading(start, n), MqttQualityOfService.AtLeastOnce);
                }
            });

            for (var kill = 1; kill <= Kills; kill++)
            {
                // Kill k once reading k/(Kills+1) of the stream is stored: a point the gateway always reaches, however
                // fast it catches up after the previous restart (a count of rows past the last kill may never come
                // when the whole stream was stored meanwhile).
                var mark = kill * Readings / (Kills + 1);
                await gateway.WaitUntilAsync(() => Task.FromResult(LatestStoredReading(start) >= mark), $"reading {mark} stored", TimeSpan.FromMinutes(3));
                gateway.Kill(); // SIGKILL mid-stream: no flush, no clean stop, no DISCONNECT
                output.WriteLine($"kill {kill}: {StoredCount()} rows stored, latest reading {LatestStoredReading(start)}");
                gateway.Dispose();
                gateway = await GatewayProcess.StartAsync(config, dir, signIn: false);
            }

            await publishing;
            await publisher.FlushAsync().WaitAsync(TimeSpan.FromMinutes(3)); // the broker owns every reading

            // What the broker still holds for the gateway arrives after the restart; a lost one never does.
            try
            {
                await gateway.WaitUntilAsync(
                    () => Task.FromResult(StoredReadings(start).Where(n => n >= 0).Distinct().Count() >= Readings),
                    $"all {Readings} readings stored",
                    TimeSpan.FromMinutes(3));
            }
            catch (TimeoutException e)
            {
                output.WriteLine(e.Message); // the gateway's output; the numbers are asserted below
            }
        }
        finally
        {
            gateway.Dispose();
        }

        var stored = StoredReadings(start).Where(n => n >= 0).ToList();
        var storedSet = stored.ToHashSet();
        var missing = Enumerable.Range(0, Readings).Where(n => !storedSet.Contains(n)).ToList();
        var duplicates = stored.Count - storedSet.Count;
        output.WriteLine($"{Readings} published, {storedSet.Count} stored, {missing.Count} lost, {duplicates} stored twice");
        var twice = stored.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).Order().ToList();
        var runs = twice.Select((n, i) => (n, i)).GroupBy(x => x.n - x.i).Select(g => $"{g.First().n}-{g.Last().n}");
        output.WriteLine($"stored twice: {string.Join(", ", runs.Take(20))}");
        Assert.True(
            missing.Count == 0,
            $"{missing.Count} of {Readings} published QoS 1 readings not stored (lost), for example {string.Join(", ", missing.Take(10))}; {duplicates} stored twice");
        Assert.Equal(Readings, storedSet.Count);
    }

    private static byte[] Reading(DateTimeOffset start, int n) => Encoding.UTF8.GetBytes(
        $$"""{"device":"mon-1","time":{{(start + (n * Step)).ToUnixTimeMilliseconds()}},"readings":[{"sign":"hr","value":{{60 + (Math.Abs(n) % 40)}}}]}""");

    private List<(long Id, Observation[] Frame)> StoredFrames() => SqliteStore.ReadAllFrames(Path.Combine(dir, "vitals.db"));

    private long StoredCount() => StoredFrames().Count;

    /// <summary>The highest reading number stored so far (-1 before any).</summary>
    private int LatestStoredReading(DateTimeOffset start) => StoredReadings(start).DefaultIfEmpty(-1).Max();

    /// <summary>Stored heart-rate readings as reading numbers, one entry per frame (a reading stored twice appears twice).</summary>
    private List<int> StoredReadings(DateTimeOffset start) =>
        [.. StoredFrames().Where(f => f.Frame.Any(o => o.Sign == Sign.Hr))
            .Select(f => (int)((f.Frame[0].MeasuredAt.ToUnixTimeMilliseconds() - start.ToUnixTimeMilliseconds()) / (long)Step.TotalMilliseconds))];
}
