using System.Threading.Channels;
using Vitals.Core;
using Vitals.Gateway.Pipeline;
using Vitals.Simulator;

namespace Vitals.Gateway.Feeds;

/// <summary>An in-process simulated monitor bound to a chair: one <see cref="SimulatedPatient"/> step per interval.</summary>
public sealed class SimulatorFeed(
    string site,
    string chair,
    string device,
    SimulatorOptions options,
    TimeSpan stepInterval,
    FeedStatus status,
    ChannelWriter<Observation> output,
    TimeProvider time)
{
    /// <summary>Runs until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var patient = new SimulatedPatient(options);
        var readings = new List<SimReading>();
        using var timer = new PeriodicTimer(stepInterval, time);
        status.SetConnected(true);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var now = time.GetUtcNow();
                var observations = Step(patient, readings, now);
                status.SetConnected(!patient.IsSilent);
                if (observations.Count == 0)
                {
                    continue;
                }

                foreach (var o in observations)
                {
                    await output.WriteAsync(o, ct).ConfigureAwait(false);
                }

                status.FrameOk(now);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            status.SetConnected(false);
        }
    }

    /// <summary>One monitor second of <paramref name="patient"/>: its readings as observations stamped <paramref name="now"/> (none while silent).</summary>
    /// <remarks>Tests replay the demo on a manual clock through this, exactly as the feed plays it.</remarks>
    internal List<Observation> Step(SimulatedPatient patient, List<SimReading> readings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(patient);
        ArgumentNullException.ThrowIfNull(readings);
        readings.Clear();
        patient.Step(readings);
        return [.. readings.Select(r => new Observation(site, chair, device, r.Sign, r.Value, now, now, SourceProtocol.Simulator, ObservationQuality.Simulated))];
    }
}
