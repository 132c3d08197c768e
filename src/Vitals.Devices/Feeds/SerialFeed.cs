using System.Buffers;
using System.Threading.Channels;
using Polly;
using Polly.Retry;
using Vitals.Core;
using Vitals.Devices.Serial;

namespace Vitals.Devices.Feeds;

/// <summary>Binds a serial port to a chair.</summary>
public sealed record SerialFeedOptions
{
    /// <summary>First reconnect delay.</summary>
    public static readonly TimeSpan DefaultReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>Cap on the reconnect delay.</summary>
    public static readonly TimeSpan DefaultMaxReconnectDelay = TimeSpan.FromSeconds(30);

    /// <summary>The port and its settings.</summary>
    public required SerialPortSettings Port { get; init; }

    /// <summary>Clinic site.</summary>
    public required string Site { get; init; }

    /// <summary>Chair the monitor on this port belongs to.</summary>
    public required string Chair { get; init; }

    /// <summary>Device id used when the frames carry none (for example <c>chair3-oximeter</c>).</summary>
    public string Device { get; init; } = string.Empty;

    /// <summary>Time zone of device clocks that send local time without an offset (Masimo).</summary>
    public TimeZoneInfo DeviceTimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>First reconnect delay; doubles with jitter up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = DefaultReconnectDelay;

    /// <summary>Cap on the reconnect delay.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = DefaultMaxReconnectDelay;

    /// <summary>
    /// When set, a codec's positive reply (HL7 AA) goes out only once this store reports the frame's observations
    /// committed; otherwise, after <see cref="AckTimeout"/>, the codec's <see cref="ISerialCodec.NotStoredReply"/> (AE).
    /// </summary>
    public IReadingStore? Store { get; init; }

    /// <summary>How long a replying frame waits for <see cref="Store"/> to confirm its observations.</summary>
    public TimeSpan AckTimeout { get; init; } = Mllp.MllpListenerOptions.DefaultAckTimeout;

    /// <summary>Returns every problem, each naming the setting.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Port is null)
        {
            errors.Add("Port: serial port settings are required.");
        }
        else
        {
            errors.AddRange(Port.Validate().Select(e => "Port." + e));
        }

        if (string.IsNullOrWhiteSpace(Site))
        {
            errors.Add("Site: required.");
        }

        if (string.IsNullOrWhiteSpace(Chair))
        {
            errors.Add("Chair: required.");
        }

        if (ReconnectDelay <= TimeSpan.Zero || ReconnectDelay > TimeSpan.FromMinutes(5))
        {
            errors.Add($"ReconnectDelay: {ReconnectDelay} must be between 0 and 5 minutes.");
        }

        if (MaxReconnectDelay < ReconnectDelay || MaxReconnectDelay > TimeSpan.FromHours(1))
        {
            errors.Add($"MaxReconnectDelay: {MaxReconnectDelay} must be at least ReconnectDelay and at most 1 hour.");
        }

        return errors;
    }
}

/// <summary>
/// A feed = serial transport + codec + chair binding. Reads bytes, frames and decodes them, writes observations
/// to a channel, and writes the codec's reply to a frame (an HL7 ACK; none for line protocols) back to the port once
/// that frame's observations are in the channel. A bad frame is counted and skipped; a lost device is reopened with
/// capped exponential backoff with jitter (Polly). Independent of ASP.NET: run <see cref="RunAsync"/> from any host.
/// </summary>
public sealed class SerialFeed
{
    private const int ReadChunk = 4096;

    private readonly SerialFeedOptions options;
    private readonly ISerialPortFactory ports;
    private readonly ISerialCodec codec;
    private readonly ChannelWriter<Observation> output;
    private readonly TimeProvider time;
    private readonly ResiliencePipeline reconnect;

    /// <summary>Creates a feed; throws <see cref="ArgumentException"/> naming bad options.</summary>
    public SerialFeed(SerialFeedOptions options, ISerialPortFactory ports, ISerialCodec codec, ChannelWriter<Observation> output, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid serial feed options: " + string.Join(" ", errors), nameof(options));
        }

        this.options = options;
        this.ports = ports ?? throw new ArgumentNullException(nameof(ports));
        this.codec = codec ?? throw new ArgumentNullException(nameof(codec));
        this.output = output ?? throw new ArgumentNullException(nameof(output));
        time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        reconnect = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<IOException>(),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.ReconnectDelay,
                MaxDelay = options.MaxReconnectDelay,
                MaxRetryAttempts = int.MaxValue,
                OnRetry = args =>
                {
                    Counters.Reconnecting(args.RetryDelay);
                    Counters.SetConnected(false, args.Outcome.Exception?.Message);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Health counters, readable from any thread.</summary>
    public FeedCounters Counters { get; } = new();

    /// <summary>The options the feed runs with.</summary>
    public SerialFeedOptions Options => options;

    /// <summary>Runs until cancelled or the channel is completed. Never throws for device or data problems.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // A fresh pipeline run after every healthy connection, so backoff starts small again after a long good run.
                await reconnect.ExecuteAsync(ConnectAndReadAsync, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ChannelClosedException)
        {
            // The pipeline shut down; nothing left to feed.
        }
        finally
        {
            Counters.SetConnected(false);
        }
    }

    private async ValueTask ConnectAndReadAsync(CancellationToken cancellationToken)
    {
        long bytesThisConnection = 0;
        await using var port = await ports.OpenAsync(options.Port, cancellationToken).ConfigureAwait(false);
        Counters.SetConnected(true);
        codec.ResetFraming();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(codec.MaxFrameBytes + ReadChunk);
        var batch = new List<Observation>(8);
        int filled = 0;
        long discardedSeen = codec.DiscardedFrames;
        try
        {
            while (true)
            {
                int n;
                try
                {
                    n = await port.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                }
                catch (SerialPortGoneException ex) when (bytesThisConnection > 0)
                {
                    LostHealthyConnection(ex);
                    return;
                }

                bytesThisConnection += n;
                filled += n;
                Counters.AddBytes(n);
                var receivedAt = time.GetUtcNow();
                var context = new DecodeContext(options.Site, options.Chair, options.Device, receivedAt, options.DeviceTimeZone);

                var sequence = new ReadOnlySequence<byte>(buffer, 0, filled);
                while (codec.TryReadFrame(ref sequence, out var frame))
                {
                    batch.Clear();
                    DecodeResult result;
                    var reply = ReadOnlyMemory<byte>.Empty;
                    try
                    {
                        result = codec.Decode(frame.FirstSpan, context, batch);
                        reply = codec.Reply;
                    }
#pragma warning disable CA1031 // a codec bug on one frame must not stop the feed
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        result = DecodeResult.Bad($"codec error: {ex.GetType().Name}");
                    }

                    if (!result.Ok)
                    {
                        Counters.FrameBad(result.Error ?? "bad frame");
                    }
                    else
                    {
                        Counters.FrameOk(receivedAt);
                        Counters.SetConditions(codec.ActiveConditions);
                        if (!await KeepAsync(batch, !reply.IsEmpty, cancellationToken).ConfigureAwait(false))
                        {
                            reply = codec.NotStoredReply;
                        }
                    }

                    // Only now, with the observations in the channel (and, with a store, committed), may a positive ACK go out.
                    if (!reply.IsEmpty && !await TryWriteAsync(port, reply, cancellationToken).ConfigureAwait(false))
                    {
                        return;
                    }
                }

                long discarded = codec.DiscardedFrames;
                if (discarded != discardedSeen)
                {
                    Counters.FrameBad(codec.DiscardedFrameReason, discarded - discardedSeen);
                    discardedSeen = discarded;
                }

                // Keep only the unconsumed tail (an incomplete frame, at most MaxFrameBytes), so the buffer never grows.
                int remaining = (int)sequence.Length;
                if (remaining > 0 && remaining != filled)
                {
                    Buffer.BlockCopy(buffer, filled - remaining, buffer, 0, remaining);
                }

                filled = remaining;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Counters.SetConnected(false);
        }
    }

    /// <summary>
    /// Queues a frame's observations (all of them: the wait is bounded only by cancellation) and, when the frame gets a
    /// reply and a store is configured, waits for their commit; false when the store did not confirm in time or will not
    /// keep them.
    /// </summary>
    private async ValueTask<bool> KeepAsync(List<Observation> batch, bool replies, CancellationToken cancellationToken)
    {
        var stored = replies && batch.Count > 0 ? options.Store?.WhenStored(batch[^1]) : null;
        try
        {
            foreach (var observation in batch)
            {
                await output.WriteAsync(observation, cancellationToken).ConfigureAwait(false);
            }

            // False from the store: judged and shown, but not recorded (writes failing, memory hold full).
            return stored is null || await stored.WaitAsync(options.AckTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            if (stored is { IsCompleted: false })
            {
                options.Store!.Forget(batch[^1]);
            }
        }
    }

    /// <summary>Writes a reply to the device; false when the device went away (reported like a lost read).</summary>
    private async ValueTask<bool> TryWriteAsync(ISerialPort port, ReadOnlyMemory<byte> reply, CancellationToken cancellationToken)
    {
        try
        {
            await port.WriteAsync(reply, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SerialPortGoneException ex)
        {
            LostHealthyConnection(ex); // it delivered the data this replies to
            return false;
        }
    }

    /// <summary>A connection that delivered data went away: report it; the caller returns so the next run starts with the shortest delay.</summary>
    private void LostHealthyConnection(SerialPortGoneException ex)
    {
        Counters.SetConnected(false, ex.Message);
        Counters.Reconnecting();
    }
}
