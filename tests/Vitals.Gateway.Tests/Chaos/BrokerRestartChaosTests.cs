using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Gateway.Alarms;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Gateway.Tests.Mqtt;
using static Vitals.Gateway.Tests.Mqtt.MqttTestSupport;

namespace Vitals.Gateway.Tests.Chaos;

/// <summary>
/// mosquitto is stopped and restarted in the middle of a stream of alarm transitions: every transition still reaches a
/// QoS 1 subscriber (duplicates are allowed by QoS 1; a gap is not), and nothing is dropped or left pending.
/// </summary>
public sealed class BrokerRestartChaosTests(PersistentMosquittoFixture fixture) : IClassFixture<PersistentMosquittoFixture>
{
    private const int Pairs = 100; // raised + cleared each: 200 QoS 1 alarm messages

    [Fact]
    public async Task BrokerRestartedDuringQos1AlarmTraffic_EveryTransitionDelivered()
    {
        var broker = fixture.Broker;
        var prefix = NewPrefix();
        await using var host = await StartAsync(Options(new MqttOptions { Url = $"mqtt://127.0.0.1:{broker.Port}", TopicPrefix = prefix }));
        await host.WaitConnectedAsync();

        // A persistent session: the broker keeps the subscription and what is queued for it across its restart.
        var subscriberOptions = TestClients.Options(broker.Port, "chaos-sub-" + prefix) with { CleanSession = false };
        await using var subscriber = await TestClients.ConnectedAsync(subscriberOptions);
        await subscriber.SubscribeAsync($"{prefix}/{Site}/+/alarm", MqttQualityOfService.AtLeastOnce);
        var received = new ConcurrentDictionary<(string Rule, string State), int>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            await foreach (var message in subscriber.Messages.ReadAllAsync(stop.Token))
            {
                using var json = JsonDocument.Parse(message.Payload);
                received.AddOrUpdate((json.RootElement.GetProperty("rule").GetString()!, json.RootElement.GetProperty("state").GetString()!), 1, (_, n) => n + 1);
            }
        });

        // Device conditions raised and cleared one after another, as a flapping probe would; the broker goes down and
        // comes back while they flow.
        var alarms = host.App.Services.GetRequiredService<AlarmService>();
        for (var i = 0; i < Pairs; i++)
        {
            foreach (var active in new[] { true, false })
            {
                await alarms.RunAsync((engine, now, events) =>
                {
                    engine.ReportTechnical("chair-1", $"chaos{i}", $"chaos condition {i}", active, now, events);
                    return 0;
                }, default);
            }

            if (i == Pairs / 3)
            {
                await broker.StopAsync();
            }
            else if (i == Pairs * 2 / 3)
            {
                await broker.RestartAsync();
            }

            await Task.Delay(10);
        }

        var expected = Enumerable.Range(0, Pairs).SelectMany(i => new[] { ($"device.chaos{i}", "raised"), ($"device.chaos{i}", "cleared") }).ToList();
        await Eventually.TrueAsync(() => expected.All(received.ContainsKey), "every alarm transition to reach the subscriber", TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(() => host.Bridge().Status()!.PendingQos1 == 0, "every QoS 1 message to be acknowledged", TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await reader.ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Equal(0, host.Bridge().Status()!.Dropped);
        Assert.All(expected, e => Assert.True(received.ContainsKey(e), $"{e} never arrived"));
    }
}
