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
                readings.Clear();
                patient.Step(readings);
                status.SetConnected(!patient.IsSilent);
                if (readings.Count == 0)
                {
                    continue;
                }

                var now = time.GetUtcNow();
                foreach (var r in readings)
                {
                    await output.WriteAsync(
                        new Observation(site, chair, device, r.Sign, r.Value, now, now, SourceProtocol.Simulator, ObservationQuality.Simulated),
                        ct).ConfigureAwait(false);
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
}
