using System.Globalization;
using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt.Tests.Broker;

/// <summary>
/// The bridged deployment on loopback: one mosquitto per site, each bridged to a central mosquitto with mosquitto's own
/// bridge (<c>connection</c>/<c>address</c>/<c>topic &lt;prefix&gt;/# out 1</c>, persistent bridge session, QoS 1), all on
/// free ports and with persistence, so a broker restarted with <see cref="MosquittoBroker.StopAsync"/> and
/// <see cref="MosquittoBroker.RestartAsync"/> keeps its retained messages, sessions and the bridge's queue. Stopping a
/// site broker cuts that site (gateway and bridge); stopping the central broker cuts every bridge.
/// </summary>
public sealed class BridgedBrokers : IAsyncDisposable
{
    private BridgedBrokers(string prefix, MosquittoBroker central, IReadOnlyList<MosquittoBroker> sites)
    {
        Prefix = prefix;
        Central = central;
        Sites = sites;
    }

    /// <summary>First topic level; only topics under it cross the bridges.</summary>
    public string Prefix { get; }

    /// <summary>The broker central subscribes to.</summary>
    public MosquittoBroker Central { get; }

    /// <summary>The site brokers, in order; site <c>i</c>'s bridge is named <c>site-{i+1}-bridge</c>.</summary>
    public IReadOnlyList<MosquittoBroker> Sites { get; }

    /// <summary>Starts a central broker and <paramref name="sites"/> site brokers bridged to it, and waits until every bridge carries messages.</summary>
    public static async Task<BridgedBrokers> StartAsync(int sites, string prefix)
    {
        var central = await MosquittoBroker.StartAsync(persistence: true);
        var started = new List<MosquittoBroker>();
        try
        {
            for (var i = 1; i <= sites; i++)
            {
                started.Add(await MosquittoBroker.StartAsync(persistence: true, bridgeConfig: BridgeConfig($"site-{i}-bridge", central.Port, prefix)));
            }

            var topology = new BridgedBrokers(prefix, central, started);
            for (var i = 0; i < sites; i++)
            {
                await topology.WaitBridgedAsync(i);
            }

            return topology;
        }
        catch
        {
            foreach (var broker in started)
            {
                await broker.DisposeAsync();
            }

            await central.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A site broker's bridge section, as a site would write it (the README shows the same): everything under
    /// <paramref name="prefix"/> goes out at QoS 1, the bridge session is persistent so QoS 1 messages published while
    /// the central broker is unreachable are queued at the site and delivered when the bridge reconnects.
    /// </summary>
    public static string BridgeConfig(string name, int centralPort, string prefix) => $"""
        connection {name}
        address 127.0.0.1:{centralPort.ToString(CultureInfo.InvariantCulture)}
        remote_clientid {name}
        topic {prefix}/# out 1
        cleansession false
        restart_timeout 1 2
        keepalive_interval 5
        notifications false
        """;

    /// <summary>Completes once a message published at site <paramref name="site"/> (0-based) arrives at the central broker.</summary>
    public async Task WaitBridgedAsync(int site)
    {
        var probe = $"{Prefix}/bridge-probe/{Guid.NewGuid():N}";
        await using var central = new MqttClient(TestClients.Options(Central.Port));
        await central.ConnectAsync().WaitAsync(TestClients.TestTimeout);
        await central.SubscribeAsync(probe, MqttQualityOfService.AtLeastOnce).WaitAsync(TestClients.TestTimeout);
        var port = Sites[site].Port.ToString(CultureInfo.InvariantCulture);

        // Published again until it arrives: the bridge may still be connecting (it retries every 1-2 s).
        await Eventually.TrueAsync(
            async () =>
            {
                await MosquittoBroker.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", port, "-q", "1", "-t", probe, "-m", "probe"]);
                return central.Messages.TryRead(out _);
            },
            $"site {site + 1}'s bridge to carry a message to the central broker",
            TimeSpan.FromSeconds(60));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var site in Sites)
        {
            await site.DisposeAsync();
        }

        await Central.DisposeAsync();
    }
}
