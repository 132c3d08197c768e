using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;
using Vitals.Simulator;

namespace Vitals.Gateway.Feeds;

/// <summary>
/// Runs the simulator and serial feeds, grouped per chair so one chair's feeds can be stopped and replaced while the
/// gateway runs (admin binding edits). HL7 and MQTT devices are not run here: the MLLP listener's chair map and the
/// MQTT bridge's chair set are built at start, so changes to those kinds apply after a restart.
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

    /// <summary>True when both the running and the new devices of a chair are of kinds that can be restarted live.</summary>
    public bool CanApplyLive(string chairId, IReadOnlyList<DeviceOptions> devices) =>
        started && !stopping.IsCancellationRequested
        && RunningDevices(chairId).Concat(devices).All(d => ChairBindings.LiveKinds.Contains(d.Kind));

    /// <summary>Stops a chair's feeds and starts the new ones (only kinds in <see cref="ChairBindings.LiveKinds"/>).</summary>
    /// <exception cref="InvalidOperationException">A device kind cannot be applied live, or the gateway is not running.</exception>
    public async Task RestartChairAsync(ChairOptions chair, List<DeviceOptions> devices)
    {
        ArgumentNullException.ThrowIfNull(chair);
        ArgumentNullException.ThrowIfNull(devices);
        await gate.WaitAsync(stopping).ConfigureAwait(false);
        try
        {
            if (!CanApplyLive(chair.Id, devices))
            {
                throw new InvalidOperationException($"chair '{chair.Id}': these devices cannot be applied while the gateway runs.");
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
                var before = registry.All();
                runs.Add(DeviceFeeds.CreateSerial(options, chair, device, $"chairs[{index}].devices[{d}]", services));
                statuses.AddRange(registry.All().Except(before));
            }
            else if (device.Kind == "simulator")
            {
                var status = registry.Register(chair.Id, device.Id, device.Kind);
                statuses.Add(status);
                Scenarios.TryParse(device.Scenario, out var scenario);
                var sim = new SimulatorOptions(scenario, device.Seed, device.TimeScale, TimeSpan.FromMinutes(device.NibpCycleMinutes));
                runs.Add(new SimulatorFeed(options.Site, chair.Id, device.Id, sim, simulatorStep, status, pipeline.Writer, time).RunAsync);
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
