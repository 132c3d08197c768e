using System.Text.Json;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Pipeline;

/// <summary>
/// Moves pipeline output to disk in batches, off the alarm path: the pipeline only enqueues.
/// On shutdown everything queued is written before the store closes.
/// </summary>
public sealed partial class StoreWriter(SqliteStore store, ILogger<StoreWriter> logger) : BackgroundService
{
    /// <summary>Observations written per transaction at most.</summary>
    public const int MaxBatch = 5000;

    private readonly Channel<object> queue = Channel.CreateBounded<object>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private long written;

    /// <summary>Observations written since start.</summary>
    public long Written => Interlocked.Read(ref written);

    /// <summary>Observations and events waiting to be written.</summary>
    public int Pending => queue.Reader.Count;

    /// <summary>Queues observations for the store.</summary>
    public ValueTask EnqueueAsync(Observation o, CancellationToken ct) => queue.Writer.WriteAsync(o, ct);

    /// <summary>Queues an alarm transition for the event log.</summary>
    public ValueTask EnqueueAsync(AlarmEvent e, CancellationToken ct) => queue.Writer.WriteAsync(e, ct);

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Observation>(MaxBatch);
        try
        {
            // Not tied to stoppingToken: the loop ends when StopAsync completes the queue, after draining it.
            while (await queue.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item))
                {
                    if (item is Observation o)
                    {
                        batch.Add(o);
                    }
                    else if (item is AlarmEvent e)
                    {
                        store.AppendEvent(e.At, "alarm", e.Chair, JsonSerializer.Serialize(e, Json.Options));
                    }
                }

                Flush(batch);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogStoreFailed(logger, e);
            throw;
        }
    }

    private void Flush(List<Observation> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        store.Append(batch);
        Interlocked.Add(ref written, batch.Count);
        batch.Clear();
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Critical, Message = "The embedded store failed; readings are no longer being saved")]
    private static partial void LogStoreFailed(ILogger logger, Exception e);
}
