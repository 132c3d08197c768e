using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Feeds;

/// <summary>
/// A monitor never resends a message that got AA. So whatever was acknowledged must survive the gateway dying at any
/// moment: a real gateway process, several MLLP senders at full speed, SIGKILL, restart.
/// </summary>
public sealed class Hl7CrashDurabilityTests : IDisposable
{
    private const int Senders = 12;
    private const int Rounds = 3;
    private const int PerRound = 15_000;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-hl7kill-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Gateway_KilledWithSigkillDuringHl7Traffic_EveryAcknowledgedReadingStoredExactlyOnce()
    {
        var config = Path.Combine(dir, "vitals.json");
        var chairs = string.Join(",", Enumerable.Range(1, Senders).Select(i =>
            $$"""{ "id": "chair-{{i}}", "devices": [ { "id": "mon-{{i}}", "kind": "hl7", "match": "BED{{i}}" } ] }"""));
        await File.WriteAllTextAsync(config, $$"""{ "site": "kill-test", "hl7": { "listen": "127.0.0.1:0", "chairRule": "pv1Bed", "timeZone": "UTC" }, "chairs": [ {{chairs}} ] }""");

        // Each message: HR and SpO2 for one bed at its own 10 ms step (sender s, message n), so rows name their message.
        // Three rounds of full-speed traffic ended by SIGKILL, each restart recovering the store as the product would:
        // only the last few acknowledged messages are ever at risk, so one kill alone could miss a defect.
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-15).ToUnixTimeSeconds());
        var acked = new ConcurrentDictionary<(int Sender, int N), bool>();
        for (var round = 0; round < Rounds; round++)
        {
            using var gateway = await GatewayProcess.StartAsync(config, dir, signIn: false);
            var before = acked.Count;
            using var stop = new CancellationTokenSource();
            var first = round * PerRound;
            var senders = Enumerable.Range(1, Senders).Select(s => Task.Run(() => SendUntilDeadAsync(gateway.Hl7Port, s, start, first, acked, stop.Token))).ToArray();
            await gateway.WaitUntilAsync(() => Task.FromResult(acked.Count - before >= 1000), "1000 messages acknowledged this round", TimeSpan.FromMinutes(3));
            await Task.Delay(TimeSpan.FromSeconds(1)); // full speed for a while
            gateway.Kill(); // SIGKILL: no flush, no clean stop
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }

        // A last restart recovers the store after the last kill.
        using (var again = await GatewayProcess.StartAsync(config, dir, signIn: false))
        {
            again.Kill();
        }

        var stored = StoredReadings(start);
        var storedSet = stored.ToHashSet();
        var duplicates = stored.GroupBy(r => r).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var missing = acked.Keys.Where(k => !storedSet.Contains((k.Sender, k.N, "hr")) || !storedSet.Contains((k.Sender, k.N, "spo2"))).ToList();
        Assert.True(acked.Count >= Rounds * 1000, $"{acked.Count} messages acknowledged");
        Assert.True(missing.Count == 0, $"{missing.Count} of {acked.Count} acknowledged messages not stored, for example {string.Join(", ", missing.Take(5))}");
        Assert.Empty(duplicates);
    }

    private static async Task SendUntilDeadAsync(int port, int sender, DateTimeOffset start, int first, ConcurrentDictionary<(int, int), bool> acked, CancellationToken ct)
    {
        try
        {
            await using var client = await MllpClient.ConnectAsync("127.0.0.1", port, TimeSpan.FromSeconds(30), cancellationToken: ct);
            for (var n = first; n < first + PerRound && !ct.IsCancellationRequested; n++)
            {
                var at = (start + (n * Step)).ToString("yyyyMMddHHmmss.fff", CultureInfo.InvariantCulture) + "+0000";
                var message = Encoding.ASCII.GetBytes(
                    $"MSH|^~\\&|MON{sender}|F|||{at}||ORU^R01|S{sender}-{n}|P|2.6\rPV1||O|INF^R1^BED{sender}\r" +
                    $"OBX|1|NM|147842^^MDC|1.1.1.1|{60 + (n % 40)}|/min|||||R|||{at}\rOBX|2|NM|150456^^MDC|1.2.1.1|97|%|||||R|||{at}\r");
                var reply = await client.SendAsync(message, TimeSpan.FromSeconds(30), ct);
                if (Hl7Ack.TryParse(reply, out var ack) && ack!.Code == Hl7AckCode.Accept && ack.AcknowledgedControlId == $"S{sender}-{n}")
                {
                    acked[(sender, n)] = true;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or TimeoutException)
        {
            // the gateway died mid-conversation: what was acknowledged before is what counts
        }
    }

    /// <summary>
    /// Stored readings as (sender, message number), one entry per stored HR and one per stored SpO2 (a message's two
    /// readings can land in two frames when a store batch ends between them).
    /// </summary>
    private List<(int Sender, int N, string Sign)> StoredReadings(DateTimeOffset start)
    {
        var readings = new List<(int, int, string)>();
        foreach (var (_, frame) in SqliteStore.ReadAllFrames(Path.Combine(dir, "vitals.db")))
        {
            var sender = int.Parse(frame[0].Chair["chair-".Length..], CultureInfo.InvariantCulture);
            var n = (int)((frame[0].MeasuredAt.ToUnixTimeMilliseconds() - start.ToUnixTimeMilliseconds()) / (long)Step.TotalMilliseconds);
            readings.AddRange(frame.Where(o => o.Sign is Sign.Hr or Sign.Spo2).Select(o => (sender, n, o.Sign.ShortName())));
        }

        return readings;
    }
}
