using Vitals.Core;
using Vitals.Gateway.Alarms;

namespace Vitals.Gateway.Pipeline;

/// <summary>
/// Runs the gateway's long-running loops (pipeline, alarm clock, alarm dispatch, store writer, storage maintenance,
/// forwarders, feed supervision, MQTT). A loop that throws is logged with its exception, raised as a high-priority
/// technical alarm on the gateway chair (<c>gateway.loop.&lt;name&gt;</c>) and restarted with backoff; the alarm clears
/// once the restarted loop has stayed up for <see cref="HealthyAfter"/>. A loop that fails <see cref="MaxFailures"/>
/// times without staying up that long cannot be kept running: the host stops with a critical log and exit code 1
/// (a supervisor such as systemd restarts it; MQTT's last will says "offline"), never silently.
/// </summary>
public sealed partial class LoopSupervisor(AlarmService alarms, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<LoopSupervisor> logger)
{
    /// <summary>Failures in a row, each within <see cref="HealthyAfter"/> of its start, before the host is stopped.</summary>
    public const int MaxFailures = 5;

    /// <summary>How long a restarted loop must run before its alarm clears and its failure count resets.</summary>
    public static readonly TimeSpan HealthyAfter = TimeSpan.FromSeconds(30);

    /// <summary>Wait before the first restart; doubled after every further failure in a row (1, 2, 4, 8 s).</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>Rule code of a loop's technical alarm (the engine prefixes <c>gateway.</c>).</summary>
    public static string FaultCode(string loop) => "loop." + loop;

    /// <summary>
    /// Runs <paramref name="loop"/> until it returns or <paramref name="ct"/> is cancelled, restarting it after every
    /// failure. Returns normally in every case but one: when the loop cannot be kept running, after stopping the host.
    /// </summary>
    public async Task RunAsync(string name, Func<CancellationToken, Task> loop, CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            var started = time.GetUtcNow();
            Task run;
            try
            {
                run = loop(ct);
            }
            catch (Exception e)
            {
                run = Task.FromException(e);
            }

            try
            {
                if (failures > 0)
                {
                    await ClearWhenHealthyAsync(name, run, ct).ConfigureAwait(false);
                    failures = run.IsCompleted ? failures : 0;
                }

                await run.ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures = time.GetUtcNow() - started >= HealthyAfter ? 1 : failures + 1;
                LogLoopFailed(logger, name, failures, MaxFailures, e);
                Report(name, active: true, $"The {name} loop failed ({e.GetType().Name}: {e.Message}); restarted automatically");
                if (failures >= MaxFailures)
                {
                    LogCannotRestart(logger, name, failures);
                    Environment.ExitCode = 1;
                    lifetime.StopApplication();
                    return;
                }
            }

            try
            {
                await Task.Delay(FirstBackoff * (1 << (failures - 1)), time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ClearWhenHealthyAsync(string name, Task run, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var healthy = Task.Delay(HealthyAfter, time, stop.Token);
        await Task.WhenAny(run, healthy).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        if (!run.IsCompleted && healthy.IsCompletedSuccessfully)
        {
            Report(name, active: false, $"The {name} loop is running again");
            LogRecovered(logger, name);
        }
    }

    private void Report(string name, bool active, string text)
    {
        try
        {
            // Queued, never awaited: the loop that failed may be the alarm dispatcher itself.
            alarms.Run((engine, now, events) =>
            {
                engine.ReportGatewayFault(FaultCode(name), text, active, now, events, AlarmPriority.High);
                return 0;
            });
        }
        catch (Exception e)
        {
            LogReportFailed(logger, name, e);
        }
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Error, Message = "The {Loop} loop failed ({Failures} of {Max} in a row); restarting it")]
    private static partial void LogLoopFailed(ILogger logger, string loop, int failures, int max, Exception e);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Critical, Message = "The {Loop} loop failed {Failures} times in a row and cannot be kept running: stopping the gateway (exit code 1)")]
    private static partial void LogCannotRestart(ILogger logger, string loop, int failures);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Information, Message = "The {Loop} loop has run without failing since its restart; its alarm is cleared")]
    private static partial void LogRecovered(ILogger logger, string loop);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Critical, Message = "The failure of the {Loop} loop could not be raised as an alarm")]
    private static partial void LogReportFailed(ILogger logger, string loop, Exception e);
}
