using Vitals.Core;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Feeds;

/// <summary>The stale signs of one chair, sent on the dashboard stream as event <c>stale</c> when they change.</summary>
public sealed record StaleView(string Chair, IReadOnlyList<Sign> StaleSigns);

/// <summary>
/// Watches every feed twice a second: device technical conditions (Masimo exception bits such as sensor off) become
/// technical alarms when they appear and clear when they go; changes in a chair's stale signs go to dashboards.
/// </summary>
public sealed partial class FeedSupervisor(
    FeedRegistry feeds, LiveState live, AlarmService alarms, EventHub hub, LoopSupervisor supervisor, TimeProvider time, ILogger<FeedSupervisor> logger,
    DeviceClocks clocks, Hl7FeedService? hl7 = null)
    : BackgroundService
{
    /// <summary>How often conditions and stale signs are checked.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    // Condition name (as reported by the codec) -> alarm code, text and priority. No sensor data = medium; doubtful signal = low.
    private static readonly Dictionary<string, (string Code, string Text, AlarmPriority Priority)> Known = new(StringComparer.Ordinal)
    {
        ["NoSensor"] = ("no_sensor", "SpO2: no sensor connected", AlarmPriority.Medium),
        ["DefectiveSensor"] = ("defective_sensor", "SpO2: defective sensor", AlarmPriority.Medium),
        ["SensorOff"] = ("sensor_off", "SpO2: sensor off patient", AlarmPriority.Medium),
        ["UnrecognizedSensor"] = ("unrecognized_sensor", "SpO2: unrecognized sensor", AlarmPriority.Medium),
        ["PulseSearch"] = ("pulse_search", "SpO2: pulse search", AlarmPriority.Low),
        ["LowPerfusion"] = ("low_perfusion", "SpO2: low perfusion", AlarmPriority.Low),
        ["Interference"] = ("interference", "SpO2: interference detected", AlarmPriority.Low),
        ["AmbientLight"] = ("ambient_light", "SpO2: too much ambient light", AlarmPriority.Low),
        ["LowSignalIq"] = ("low_signal_iq", "SpO2: low signal IQ", AlarmPriority.Low),

        // Not a device report: the gateway's judgement of the device's timestamps (DeviceClocks).
        [ClockWrong] = ("clock_wrong", "Monitor clock wrong: readings dated with the time received", AlarmPriority.Low),
    };

    private const string ClockWrong = "ClockWrong";

    private readonly Dictionary<string, HashSet<string>> raised = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<Sign>> lastStale = new(StringComparer.Ordinal);
    private readonly Dictionary<FeedStatus, bool> lastConnected = [];
    private bool seeded;

    /// <summary>One supervision pass (the loop calls it; tests may too).</summary>
    public async Task CheckAsync(CancellationToken ct)
    {
        hl7?.RefreshConnected();
        if (!seeded)
        {
            SeedFromRestoredAlarms();
            seeded = true;
        }

        LogConnectionChanges();
        await CheckConditionsAsync(ct).ConfigureAwait(false);
        foreach (var chair in live.ChairIds)
        {
            var stale = live.StaleSigns(chair);
            if (!lastStale.TryGetValue(chair, out var before) || !before.SequenceEqual(stale))
            {
                lastStale[chair] = stale;
                if (before is not null || stale.Count > 0)
                {
                    hub.Publish("stale", new StaleView(chair, stale));
                }
            }
        }
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => supervisor.RunAsync("feeds.supervisor", CheckEveryIntervalAsync, stoppingToken);

    private async Task CheckEveryIntervalAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                await CheckAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task CheckConditionsAsync(CancellationToken ct)
    {
        // Union per chair: two monitors on one chair share the rule, so it clears only when neither reports it.
        // A disconnected feed's last conditions are no longer known; FEED LOST covers it instead.
        var now = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var feed in feeds.All())
        {
            if (string.IsNullOrEmpty(feed.Chair))
            {
                continue;
            }

            var current = now.TryGetValue(feed.Chair, out var set) ? set : now[feed.Chair] = new(StringComparer.Ordinal);
            if (!feed.Counters.Connected)
            {
                continue;
            }

            foreach (var condition in feed.Counters.Conditions)
            {
                current.TryAdd(condition, feed.Device);
            }
        }

        foreach (var (chair, device) in clocks.WrongAt(time.GetUtcNow()))
        {
            (now.TryGetValue(chair, out var set) ? set : now[chair] = new(StringComparer.Ordinal)).TryAdd(ClockWrong, device);
        }

        foreach (var (chair, current) in now)
        {
            var before = raised.TryGetValue(chair, out var set) ? set : raised[chair] = new(StringComparer.Ordinal);
            var appeared = current.Keys.Where(c => !before.Contains(c)).ToList();
            var gone = before.Where(c => !current.ContainsKey(c)).ToList();
            if (appeared.Count == 0 && gone.Count == 0)
            {
                continue;
            }

            await alarms.RunAsync((engine, at, events) =>
            {
                foreach (var c in appeared)
                {
                    var (code, text, priority) = Describe(c);
                    engine.ReportTechnical(chair, code, $"{text} ({current[c]})", true, at, events, priority);
                }

                foreach (var c in gone)
                {
                    var (code, text, priority) = Describe(c);
                    engine.ReportTechnical(chair, code, text, false, at, events, priority);
                }

                return 0;
            }, ct).ConfigureAwait(false);
            before.UnionWith(appeared);
            before.ExceptWith(gone);
        }
    }

    private void SeedFromRestoredAlarms()
    {
        // Alarms restored from the last run must clear if their condition is gone now, so count them as raised.
        foreach (var e in alarms.Read((engine, _) => engine.Active))
        {
            var condition = Known.FirstOrDefault(k => "device." + k.Value.Code == e.Rule).Key;
            if (condition is not null)
            {
                (raised.TryGetValue(e.Chair, out var set) ? set : raised[e.Chair] = new(StringComparer.Ordinal)).Add(condition);
            }
        }
    }

    private void LogConnectionChanges()
    {
        foreach (var feed in feeds.All())
        {
            var connected = feed.Counters.Connected;
            if (lastConnected.TryGetValue(feed, out var before) && before == connected)
            {
                continue;
            }

            if (connected)
            {
                LogConnected(feed.Kind, feed.Device, feed.Chair);
            }
            else if (lastConnected.ContainsKey(feed))
            {
                LogDisconnected(feed.Kind, feed.Device, feed.Chair, feed.Counters.LastError ?? "no error reported");
            }

            lastConnected[feed] = connected;
        }
    }

    // Device ids and chair ids only: never patient identifiers.
    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Feed {Kind} {Device} (chair '{Chair}') connected")]
    private partial void LogConnected(string kind, string device, string chair);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Feed {Kind} {Device} (chair '{Chair}') disconnected: {Reason}")]
    private partial void LogDisconnected(string kind, string device, string chair, string reason);

    private static (string Code, string Text, AlarmPriority Priority) Describe(string condition) =>
        Known.TryGetValue(condition, out var known) ? known : (condition.ToLowerInvariant(), $"Monitor reports {condition}", AlarmPriority.Low);
}
