using System.Net;
using System.Text.Json;
using Vitals.Core;
using Vitals.Gateway.Tests;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using Xunit.Abstractions;

namespace Vitals.Central.Tests;

/// <summary>Central's dashboard stream under a chair-state flood, read by a browser that stalls (real mosquitto, real HTTP).</summary>
public sealed class CentralStreamTests(ITestOutputHelper output)
{
    private static byte[] Payload<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TestJson.Options);

    [Fact]
    public async Task StalledBrowser_StateFlood_KeepsItsStreamAndGetsEveryAlarmAndTheNewestStateOfEachChair()
    {
        // Room for the whole flood in central's queue at the broker, so the broker drops none of it (default 1,000).
        await using var broker = await MosquittoBroker.StartAsync(extraConfig: "max_queued_messages 200000");
        await using var central = await CentralHost.StartAsync(broker.Port);
        var site = new MqttClient(MqttUrl.Parse($"mqtt://127.0.0.1:{broker.Port}") with { ClientId = "emulated-north", MaxQueuedQos0 = 100_000 });
        await using var siteClient = site;
        await site.ConnectAsync();
        await site.PublishAsync("vitals/north/gateway/status", Payload(new MqttGatewayStatus("online", "north", "test", DateTimeOffset.UtcNow)), MqttQualityOfService.AtLeastOnce, retain: true);
        await Eventually.TrueAsync(() => central.Book.Site("north", DateTimeOffset.UtcNow) is not null, "site north at central");

        using var browser = central.NewClient();
        browser.Timeout = Timeout.InfiniteTimeSpan;
        using (var login = await GatewayHost.SendAsync(browser, HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword }))
        {
            Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        }

        using var response = await browser.GetAsync(new Uri("api/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Assert.Equal("snapshot", (await ReadEventAsync(reader, cts.Token))!.Value.Type);

        // The browser stalls. The site floods chair states (100 chairs, ~15 MB of stream events: the socket buffers took
        // ~19,000 of them here, the old queue 2,048 more) with an alarm raised and cleared every 1,000 states on another chair.
        const int states = 60_000;
        const int chairs = 100;
        var rules = new List<string>();
        for (var i = 0; i < states; i++)
        {
            var chair = $"c{i % chairs}";
            var state = new MqttChairState("north", chair, chair, new Dictionary<string, MqttValue> { ["hr"] = new(i, "/min", DateTimeOffset.UtcNow, null) }, []);
            await site.PublishAsync($"vitals/north/{chair}/state", Payload(state), MqttQualityOfService.AtMostOnce);
            if (i % 1000 == 0)
            {
                var rule = $"test.a{i}";
                rules.Add(rule);
                foreach (var transition in new[] { AlarmState.Raised, AlarmState.Cleared })
                {
                    var alarm = new MqttAlarmMessage("north", "alarmed", rule, null, AlarmPriority.High, AlarmKind.Technical, transition, null, null, DateTimeOffset.UtcNow, $"Test alarm {i}", null);
                    await site.PublishAsync("vitals/north/alarmed/alarm", Payload(alarm), MqttQualityOfService.AtLeastOnce);
                }
            }
        }

        // Our client sends QoS 1 ahead of queued QoS 0: the marker goes out once the flood has.
        await site.FlushAsync();
        var last = new MqttAlarmMessage("north", "alarmed", "test.last", null, AlarmPriority.High, AlarmKind.Technical, AlarmState.Raised, null, null, DateTimeOffset.UtcNow, "Last", null);
        await site.PublishAsync("vitals/north/alarmed/alarm", Payload(last), MqttQualityOfService.AtLeastOnce);
        await site.FlushAsync();
        await Eventually.TrueAsync(() => central.Book.History("north", "alarmed").Any(e => e.Rule == "test.last"), "the last alarm at central", TimeSpan.FromMinutes(2));
        var received = central.Book.Counters().Received;

        // The browser reads again: everything up to the last alarm, with nothing missing and the stream not closed.
        var events = new List<(string Type, string Data)>();
        while (await ReadEventAsync(reader, cts.Token) is { } e)
        {
            events.Add(e);
            if (e.Type == "alarm" && e.Data.Contains("test.last", StringComparison.Ordinal))
            {
                break;
            }
        }

        using var status = JsonDocument.Parse(await central.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        output.WriteLine($"central received {received} messages; the stalled stream got {events.Count} events, {events.Count(e => e.Type == "chair")} of them chair states; "
            + $"coalesced {status.RootElement.GetProperty("streamCoalesced").GetInt64()}, overflows {status.RootElement.GetProperty("streamOverflows").GetInt64()}");
        Assert.DoesNotContain(events, e => e.Type == EventHub.ClosedEvent);
        Assert.Contains(events, e => e.Type == "site-alarms" && e.Data.Contains("test.last", StringComparison.Ordinal));
        Assert.Equal(0, status.RootElement.GetProperty("streamOverflows").GetInt64());

        // Every alarm shown while raised (site-alarms lists), and every transition as an alarm event, in order.
        foreach (var rule in rules)
        {
            Assert.Contains(events, e => e.Type == "site-alarms" && e.Data.Contains($"\"{rule}\"", StringComparison.Ordinal));
        }

        var transitions = events.Where(e => e.Type == "alarm").Select(e => JsonDocument.Parse(e.Data).RootElement)
            .Select(a => $"{a.GetProperty("rule").GetString()} {a.GetProperty("state").GetString()}").ToList();
        Assert.Equal([.. rules.SelectMany(r => new[] { $"{r} raised", $"{r} cleared" }), "test.last raised"], transitions);

        // The newest state of every chair arrived: the last chair event of each carries the heart rate central holds.
        var newest = events.Where(e => e.Type == "chair").Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("chair"))
            .Where(c => c.GetProperty("id").GetString() != "alarmed")
            .GroupBy(c => c.GetProperty("id").GetString()!).ToDictionary(g => g.Key, g => g.Last().GetProperty("values").GetProperty("hr").GetProperty("value").GetDouble());
        Assert.Equal(chairs, newest.Count);
        Assert.All(Enumerable.Range(0, chairs), c => Assert.Equal(central.Book.Chair("north", $"c{c}")!.Values[Sign.Hr].Value, newest[$"c{c}"]));
    }

    /// <summary>The next SSE event (type and data), or null at the end of the stream.</summary>
    private static async Task<(string Type, string Data)?> ReadEventAsync(StreamReader reader, CancellationToken ct)
    {
        string? type = null;
        string? data = null;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return (type ?? "message", data);
                }

                continue;
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }

        return null;
    }
}
