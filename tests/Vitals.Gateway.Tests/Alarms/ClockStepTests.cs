using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Pipeline;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Alarms;

/// <summary>
/// Alarms fire on time whatever the system clock does: the gateway's wall clock is stepped (NTP after boot on a box
/// without an RTC, an admin setting the time) while real time, the monotonic timestamp, runs on. Driven through the
/// <see cref="AlarmService"/> as the pipeline drives it: each second a reading stamped with the wall clock, then a tick.
/// </summary>
public sealed class ClockStepTests : IDisposable
{
    private const string Site = "test-site";
    private const string Chair = "chair-1";
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private readonly string dir = Directory.CreateTempSubdirectory("vitals-clock-step-").FullName;
    private readonly SteppedClock clock = new(new DateTimeOffset(2026, 12, 5, 6, 0, 0, TimeSpan.Zero));
    private readonly SqliteStore store;
    private readonly LiveState live;
    private readonly AlarmService alarms;
    private readonly WarningLog log = new();
    private readonly DeviceClocks deviceClocks = new(DeviceClockPolicy.Default);

    public ClockStepTests()
    {
        store = new SqliteStore(Path.Combine(dir, "vitals.db"));
        live = new LiveState([(Chair, "Chair 1")], new FeedRegistry(), time: clock);
        alarms = new AlarmService(new AlarmEngine(site: Site), live, store, clock, log, deviceClocks);
    }

    public void Dispose()
    {
        store.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task WallClockSteppedBackAnHourWhileHrIsLow_HrLowRaisedAfterItsDelayOfRealTime()
    {
        await Hold((Sign.Hr, 35), seconds: 4);
        clock.Step(-Hour);

        // The first low reading came 3 s of real time before the step: 6 more seconds are 9 s, under the 10 s delay.
        await Hold((Sign.Hr, 35), seconds: 6);
        Assert.Null(Alarm("hr.low"));
        await Hold((Sign.Hr, 35), seconds: 2);

        Assert.Equal(AlarmPriority.High, Alarm("hr.low")?.Priority);
        Assert.Equal(new ClockStepStatus(1, -3600, clock.GetUtcNow() - TimeSpan.FromSeconds(7)), alarms.ClockSteps);
        var warning = Assert.Single(log.Warnings);
        Assert.Contains("stepped by -3600 s", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(Chair, warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WallClockSteppedBackAnHourWithAReadingOnItsWay_ReadingJudgedOnTheNewClockAndKeptAsStamped()
    {
        await Hold((Sign.Hr, 75), seconds: 5);

        // Stamped on the old clock an instant before the step, judged after the step was noticed.
        clock.Advance(Second);
        var stamped = clock.GetUtcNow();
        var onItsWay = new Observation(Site, Chair, "sim-1", Sign.Hr, 35, stamped, stamped, SourceProtocol.Simulator);
        clock.Step(-Hour);
        await alarms.TickAsync(CancellationToken.None);
        await alarms.ObserveAsync([onItsWay], CancellationToken.None);
        Assert.Equal(stamped, onItsWay.ReceivedAt);

        await Hold((Sign.Hr, 35), seconds: 9); // the low reading on its way starts the 10 s delay
        Assert.Null(Alarm("hr.low"));
        await Hold((Sign.Hr, 35), seconds: 1);
        Assert.Equal(AlarmPriority.High, Alarm("hr.low")?.Priority);
    }

    [Fact]
    public async Task WallClockSteppedBackThreeSecondsThenFeedStops_FeedLostItsTimeoutAfterTheLastReading()
    {
        // Readings stamped on the new clock soon after a small step must not pass for ones stamped before it.
        await Hold((Sign.Hr, 75), seconds: 5);
        clock.Step(TimeSpan.FromSeconds(-3));
        await Hold((Sign.Hr, 75), seconds: 9);

        await Quiet(TimeSpan.FromSeconds(14));
        Assert.Null(Alarm(AlarmEngine.FeedLostRule));
        await Quiet(TimeSpan.FromSeconds(1));
        Assert.Equal(AlarmPriority.Medium, Alarm(AlarmEngine.FeedLostRule)?.Priority);
    }

    [Fact]
    public async Task WallClockRunsNormally_NoStepCounted()
    {
        await Hold((Sign.Hr, 75), seconds: 120);

        Assert.Equal(new ClockStepStatus(0, null, null), alarms.ClockSteps);
        Assert.Empty(log.Warnings);
    }

    [Fact]
    public async Task WallClockSteppedBackAnHour_SilentFeedStillReportedLostAfterItsTimeout()
    {
        await Hold((Sign.Hr, 75), seconds: 5);
        clock.Step(-Hour);

        await Quiet(TimeSpan.FromSeconds(14));
        Assert.Null(Alarm(AlarmEngine.FeedLostRule));
        await Quiet(TimeSpan.FromSeconds(2));
        Assert.Equal(AlarmPriority.Medium, Alarm(AlarmEngine.FeedLostRule)?.Priority);
        await Quiet(TimeSpan.FromSeconds(45));
        Assert.Equal(AlarmPriority.High, Alarm(AlarmEngine.FeedLostRule)?.Priority);
    }

    [Fact]
    public async Task WallClockSteppedForwardAnHour_NoConditionBeforeItsDelayAndNoLiveChairFeedLost()
    {
        await Hold((Sign.Hr, 35), seconds: 3);

        // The step lands just before a tick, with no reading in between: the worst moment for feed loss.
        clock.Step(Hour);
        await alarms.TickAsync(CancellationToken.None);
        Assert.Null(Alarm(AlarmEngine.FeedLostRule));

        await Hold((Sign.Hr, 35), seconds: 6);
        Assert.Null(Alarm("hr.low"));
        Assert.Null(Alarm(AlarmEngine.FeedLostRule));
        await Hold((Sign.Hr, 35), seconds: 2);
        Assert.Equal(AlarmPriority.High, Alarm("hr.low")?.Priority);
    }

    [Fact]
    public async Task WallClockSteppedForwardAnHour_RunningAudioPauseKeepsItsRemainingRealDuration()
    {
        await Hold((Sign.Hr, 75), seconds: 2);
        var granted = alarms.Run((e, now, events) => e.Pause(Chair, "nurse-a", now, TimeSpan.FromSeconds(120), events));
        Assert.Equal(TimeSpan.FromSeconds(120), granted);
        await Hold((Sign.Hr, 75), seconds: 30);

        clock.Step(Hour);
        await alarms.TickAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(90), Remaining());
        await Hold((Sign.Hr, 75), seconds: 89);
        Assert.Equal(Second, Remaining());
        await Hold((Sign.Hr, 75), seconds: 1);
        Assert.Equal(TimeSpan.Zero, Remaining());
    }

    [Fact]
    public async Task WallClockSteppedBackAnHour_RunningAudioPauseDoesNotLastAnHourLonger()
    {
        await Hold((Sign.Hr, 75), seconds: 2);
        alarms.Run((e, now, events) => e.Pause(Chair, "nurse-a", now, TimeSpan.FromSeconds(120), events));
        await Hold((Sign.Hr, 75), seconds: 30);

        clock.Step(-Hour);
        await Hold((Sign.Hr, 75), seconds: 90);

        Assert.Equal(TimeSpan.Zero, Remaining());
    }

    [Fact]
    public async Task WallClockSteppedForwardAnHour_UnacknowledgedMediumAlarmEscalatesOnlyAfterItsRealTime()
    {
        await Hold((Sign.Hr, 75), seconds: 2);

        // Cuff readings are judged on arrival, without a condition delay: nibp_sys.low medium at once.
        await Feed((Sign.NibpSys, 85));
        Assert.Equal(AlarmPriority.Medium, Alarm("nibp_sys.low")?.Priority);
        await Hold((Sign.Hr, 75), seconds: 60);

        clock.Step(Hour);
        await Hold((Sign.Hr, 75), seconds: 59);
        Assert.Equal(AlarmPriority.Medium, Alarm("nibp_sys.low")?.Priority);
        await Hold((Sign.Hr, 75), seconds: 1);
        Assert.Equal(AlarmPriority.High, Alarm("nibp_sys.low")?.Priority);
    }

    [Fact]
    public async Task WallClockSteppedBackAnHourWhileReadingsArrive_LiveViewFollowsAndASignStoppedAtTheStepGoesStaleAndLost()
    {
        await Hold([(Sign.Hr, 75), (Sign.Spo2, 97)], seconds: 10);

        // SpO2 stops (probe off the finger) as the clock is stepped; heart rate keeps coming and the tile follows it.
        clock.Step(-Hour);
        await Hold((Sign.Hr, 76), seconds: 3);
        Assert.Equal(76, live.Snapshot(Chair)!.Values[Sign.Hr].Value);
        Assert.Empty(live.StaleSigns(Chair));
        await Hold((Sign.Hr, 77), seconds: 13);
        Assert.Equal(77, live.Snapshot(Chair)!.Values[Sign.Hr].Value);
        Assert.Equal([Sign.Spo2], live.StaleSigns(Chair));

        await Hold((Sign.Hr, 77), seconds: 13);
        Assert.Null(Alarm("spo2.lost"));
        await Hold((Sign.Hr, 77), seconds: 1);
        Assert.NotNull(Alarm("spo2.lost"));
        Assert.Null(Alarm(AlarmEngine.FeedLostRule));
    }

    [Fact]
    public async Task WallClockSteppedBackAnHourAfterAMonitorClockWasWrong_ClockCountsAsRightAfterItsRealMinute()
    {
        // A monitor an hour ahead is re-stamped and reported; then its clock is fixed as the gateway's is stepped back.
        await Hold((Sign.Hr, 75), seconds: 1);
        var wrongAt = clock.GetUtcNow();
        deviceClocks.Admit(new Observation(Site, Chair, "mon-1", Sign.Hr, 75, wrongAt + Hour, wrongAt, SourceProtocol.Hl7Mllp));
        Assert.Equal([(Chair, "mon-1")], deviceClocks.WrongAt(wrongAt));
        clock.Step(-Hour);

        for (var second = 1; second <= 60; second++)
        {
            clock.Advance(Second);
            var now = clock.GetUtcNow();
            deviceClocks.Admit(new Observation(Site, Chair, "mon-1", Sign.Hr, 75, now, now, SourceProtocol.Hl7Mllp));
            await alarms.TickAsync(CancellationToken.None);
            Assert.Equal(second < 60, deviceClocks.WrongAt(now).Count == 1);
        }
    }

    [Fact]
    public async Task StatusEndpoint_ClockNotStepped_ReportsNoClockSteps()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(
            () => host.App.Services.GetService(typeof(ObservationPipeline)) is ObservationPipeline p && p.Processed > 0, "a reading judged");

        using var status = System.Text.Json.JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        var steps = status.RootElement.GetProperty("clockSteps");
        Assert.Equal(0, steps.GetProperty("steps").GetInt64());
        Assert.False(steps.TryGetProperty("lastStepSeconds", out var last) && last.ValueKind != System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public void GatewayBootedAnHourBehindThenSteppedByNtp_DeviceTimesJudgedAgainstTheReceiveTimeAsBefore()
    {
        // Device times are a separate matter (README "Device clocks"): judged against the receive time of each reading,
        // whatever the gateway's clock did before. A monitor with the right time looks an hour ahead of a gateway that
        // booted an hour behind; once NTP steps the gateway, the monitor's readings keep their device time again.
        var clocks = new DeviceClocks(DeviceClockPolicy.Default);
        var truth = clock.GetUtcNow();
        var early = new Observation(Site, Chair, "mon-1", Sign.Hr, 75, truth, truth - Hour, SourceProtocol.Hl7Mllp);
        var restamped = clocks.Admit(early);
        Assert.Equal((truth - Hour, ObservationQuality.Questionable), (restamped.MeasuredAt, restamped.Quality));
        Assert.Equal([(Chair, "mon-1")], clocks.WrongAt(truth - Hour));

        var later = new Observation(Site, Chair, "mon-1", Sign.Hr, 76, truth + Second, truth + Second, SourceProtocol.Hl7Mllp);
        Assert.Same(later, clocks.Admit(later));
        Assert.Equal(early.ReceivedAt, restamped.ReceivedAt); // the stored receive time stays as it happened
        Assert.Empty(clocks.WrongAt(truth + Second)); // the monitor was right all along: nothing to wait out
    }

    private ActiveAlarm? Alarm(string rule) => alarms.Read((e, _) => e.Alarms.FirstOrDefault(a => a.Chair == Chair && a.Rule == rule));

    private TimeSpan Remaining() => alarms.Read((e, now) => e.PauseRemaining(Chair, now));

    private Task Hold((Sign Sign, double Value) reading, int seconds) => Hold([reading], seconds);

    /// <summary>Each second: real time passes, the readings arrive stamped with the wall clock, the alarm clock ticks.</summary>
    private async Task Hold((Sign Sign, double Value)[] readings, int seconds)
    {
        for (var i = 0; i < seconds; i++)
        {
            clock.Advance(Second);
            await Feed(readings);
            await alarms.TickAsync(CancellationToken.None);
        }
    }

    /// <summary>Real time passes with no readings, ticking each second.</summary>
    private async Task Quiet(TimeSpan span)
    {
        for (var waited = TimeSpan.Zero; waited < span; waited += Second)
        {
            clock.Advance(Second);
            await alarms.TickAsync(CancellationToken.None);
        }
    }

    /// <summary>As the pipeline does: the live view first, then the alarm engine.</summary>
    private async Task Feed(params (Sign Sign, double Value)[] readings)
    {
        var now = clock.GetUtcNow();
        var batch = readings.Select(r => new Observation(Site, Chair, "sim-1", r.Sign, r.Value, now, now, SourceProtocol.Simulator)).ToList();
        foreach (var o in batch)
        {
            live.Apply(o);
        }

        await alarms.ObserveAsync(batch, CancellationToken.None);
    }

    /// <summary>Keeps the warnings the alarm service logs.</summary>
    private sealed class WarningLog : ILogger<AlarmService>
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
