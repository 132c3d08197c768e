namespace Vitals.Mqtt.Tests.Broker;

/// <summary>xunit class fixture: one broker per test class.</summary>
public sealed class MosquittoFixture : IAsyncLifetime
{
    public MosquittoBroker Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}

/// <summary>A broker that keeps sessions across restarts, for the outage tests.</summary>
public sealed class PersistentMosquittoFixture : IAsyncLifetime
{
    public MosquittoBroker Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await MosquittoBroker.StartAsync(persistence: true);

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}

/// <summary>A two-node RabbitMQ cluster with the MQTT plugin, one per test class (it takes a while to start).</summary>
public sealed class RabbitMqClusterFixture : IAsyncLifetime
{
    public RabbitMqCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await RabbitMqCluster.StartAsync(2);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
