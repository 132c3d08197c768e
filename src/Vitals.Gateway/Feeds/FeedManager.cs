using Vitals.Gateway.Config;
using Vitals.Gateway.Mqtt;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Feeds;

/// <summary>
/// Runs the simulator and serial feeds, grouped per chair, and applies admin binding edits while the gateway runs: a
/// chair's simulator and serial feeds are stopped and replaced, and its hl7 and mqtt devices are handed to the one MLLP
/// listener (<see cref="Hl7FeedService.ApplyChair"/>: new chair map) and the MQTT bridge
/// (<see cref="MqttBridge.ApplyChairAsync"/>: new chair set), which swap them in without dropping a connection. Only an
/// hl7 device with no MLLP listener running, or an mqtt device with no broker configured, has to wait for a restart:
/// the listen address and the broker are read once at start.
/// </summary>
public sealed class FeedManager(GatewayOptions options, IServiceProvider services, TimeSpan simulatorStep) : BackgroundService
{
    private readonly Dictionary<string, RunningChair> running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim gate = new(1, 1);
    private CancellationToken stopping;
    private bool started;

    /// <summary>The devices running for a chair now (kinds included whether this manager runs them or not).</summary>
    public IReadOnlyList<DeviceOptions> RunningDevices(string chairId)
    {
        lock (running)
        {
            return running.TryGetValue(chairId, out var chair) ? chair.Devices : [];
        }
    }

    /// <summary>Null when <paramref name="devices"/> can replace a chair's devices while the gateway runs, else why not (naming the setting).</summary>
    public string? WhyNotLive(IReadOnlyList<DeviceOptions> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        if (!started || stopping.IsCancellationRequested)
        {
            return "The gateway is starting or stopping.";
        }

        if (devices.Any(d => d.Kind == DeviceOptions.Hl7Kind) && services.GetService<Hl7FeedService>() is null)
        {
            return $"HL7 devices need the MLLP listener, which is not running: it starts only when the configuration has an hl7 section or an hl7 device at start. The next start opens it on hl7.listen (default {Hl7Options.DefaultListen}).";
        }

        if (devices.Any(d => d.Kind == "mqtt") && !services.GetRequiredService<MqttBridge>().Enabled)
        {
            return "MQTT devices need a broker, and none is configured. Fix: set mqtt.url in the config file (or pass --mqtt URL) and restart the gateway.";
        }

        return null;
    }

    /// <summary>
    /// Replaces a chair's devices while the gateway runs: its simulator and serial feeds are restarted, the HL7 chair map
    /// and the MQTT chair set are swapped. Feed entries of removed devices go, new ones are registered.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="WhyNotLive"/> gives a reason.</exception>
    public async Task RestartChairAsync(ChairOptions chair, List<DeviceOptions> devices)
    {
        ArgumentNullException.ThrowIfNull(chair);
        ArgumentNullException.ThrowIfNull(devices);
        await gate.WaitAsync(stopping).ConfigureAwait(false);
        try
        {
            if (WhyNotLive(devices) is { } reason)
            {
                throw new InvalidOperationException($"chair '{chair.Id}': {reason}");
            }

            RunningChair? old;
            lock (running)
            {
                running.Remove(chair.Id, out old);
            }

            if (old is not null)
            {
                await old.StopAsync(services.GetRequiredService<FeedRegistry>()).ConfigureAwait(false);
            }

            chair.Devices = devices;
            Start(chair);

            // hl7 and mqtt devices are served by one listener and one bridge for every chair: they swap in the new set.
            services.GetService<Hl7FeedService>()?.ApplyChair(chair);
            await services.GetRequiredService<MqttBridge>().ApplyChairAsync(chair, stopping).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stopping = stoppingToken;
        await gate.WaitAsync(stoppingToken).ConfigureAwait(false);
        try
        {
            foreach (var chair in options.Chairs)
            {
                Start(chair);
            }

            started = true;
        }
        finally
        {
            gate.Release();
        }

        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        List<RunningChair> all;
        lock (running)
        {
            all = [.. running.Values];
        }

        foreach (var chair in all)
        {
            await chair.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(all.Select(c => c.Completion)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        gate.Dispose();
        base.Dispose();
    }

    private void Start(ChairOptions chair)
    {
        var registry = services.GetRequiredService<FeedRegistry>();
        var pipeline = services.GetRequiredService<ObservationPipeline>();
        var time = services.GetRequiredService<TimeProvider>();
        var index = options.Chairs.IndexOf(chair);
        var runs = new List<Func<CancellationToken, Task>>();
        var statuses = new List<FeedStatus>();
        for (var d = 0; d < chair.Devices.Count; d++)
        {
            var device = chair.Devices[d];
            if (device.Kind == DeviceOptions.SerialKind)
            {
                var (run, status) = DeviceFeeds.CreateSerial(options, chair, device, $"chairs[{index}].devices[{d}]", services);
                runs.Add(run);
                statuses.Add(status);
            }
            else if (device.Kind == "simulator")
            {
                var status = registry.Register(chair.Id, device.Id, device.Kind);
                statuses.Add(status);
                runs.Add(new SimulatorFeed(options.Site, chair.Id, device.Id, device.ToSimulatorOptions(), simulatorStep, status, pipeline.Writer, time).RunAsync);
            }
        }

        var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var tasks = runs.Select(run => Task.Run(() => run(cts.Token), CancellationToken.None)).ToList();
        lock (running)
        {
            running[chair.Id] = new RunningChair([.. chair.Devices], cts, Task.WhenAll(tasks), statuses);
        }
    }

    private sealed class RunningChair(IReadOnlyList<DeviceOptions> devices, CancellationTokenSource cts, Task completion, List<FeedStatus> statuses)
    {
        public IReadOnlyList<DeviceOptions> Devices { get; } = devices;

        public Task Completion { get; } = completion;

        public Task CancelAsync() => cts.CancelAsync();

        public async Task StopAsync(FeedRegistry registry)
        {
            await cts.CancelAsync().ConfigureAwait(false);
            try
            {
                await Completion.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            cts.Dispose();
            foreach (var status in statuses)
            {
                registry.Remove(status);
            }
        }
    }
}
