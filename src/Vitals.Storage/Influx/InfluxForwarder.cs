using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Vitals.Storage.Influx;

/// <summary>Thrown inside the forwarder's resilience pipeline when a write must be retried.</summary>
public sealed class InfluxUnavailableException(InfluxWriteResult result) : Exception(result?.Message)
{
    /// <summary>The failed write.</summary>
    public InfluxWriteResult Result { get; } = result ?? throw new ArgumentNullException(nameof(result));
}

/// <summary>
/// Ships the outbox to InfluxDB in order: read up to <see cref="InfluxForwarderOptions.BatchSize"/> rows
/// after the cursor, write them as line protocol, and commit the cursor only after a 2xx, or after the
/// lines InfluxDB refused are quarantined (so a poison batch never wedges it). Failures are retried with
/// exponential backoff behind a circuit breaker (Polly), honouring Retry-After; the cursor does not move
/// meanwhile, so the backlog waits in the store. Re-delivery after a crash is harmless: a point with the
/// same series and timestamp overwrites itself in InfluxDB. One forwarder per outbox.
/// </summary>
public sealed partial class InfluxForwarder : IDisposable
{
    private readonly IOutbox _outbox;
    private readonly InfluxWriteClient _client;
    private readonly InfluxForwarderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly LineProtocolWriter _writer = new(1024 * 1024);
    private readonly Lock _lock = new();
    private long _cursor;
    private long _head;
    private DateTimeOffset? _oldestUndelivered;
    private DateTimeOffset? _lastSuccessAt;
    private string? _lastError;
    private DateTimeOffset? _lastErrorAt;
    private long _quarantined;
    private long _linesWritten;
    private long _rowsForwarded;
    private bool _failing;

    /// <summary>Creates a forwarder; call <see cref="RunAsync"/> to start it.</summary>
    public InfluxForwarder(IOutbox outbox, InfluxWriteClient client, InfluxForwarderOptions? options = null, TimeProvider? timeProvider = null, ILogger<InfluxForwarder>? logger = null)
    {
        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options ?? new InfluxForwarderOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _log = (ILogger?)logger ?? NullLogger.Instance;
        _pipeline = BuildPipeline();
    }

    /// <summary>Current health.</summary>
    public InfluxForwarderHealth Health
    {
        get
        {
            lock (_lock)
            {
                return new InfluxForwarderHealth(
                    _cursor,
                    Math.Max(0, _head - _cursor),
                    _oldestUndelivered is { } oldest ? Math.Max(0, (_time.GetUtcNow() - oldest).TotalSeconds) : 0,
                    _lastSuccessAt,
                    _lastError,
                    _lastErrorAt,
                    _quarantined,
                    CircuitName(_circuit.CircuitState),
                    _linesWritten,
                    _rowsForwarded);
            }
        }
    }

    /// <summary>Forwards until <paramref name="cancellationToken"/> is cancelled. Never throws for InfluxDB or outbox failures; it records them in <see cref="Health"/> and keeps trying.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        LogStarted(_log, _client.Endpoint.ToString());
        long cursor;
        while (true)
        {
            try
            {
                cursor = await _outbox.GetCursorAsync(cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                RecordError($"cannot read the outbox cursor: {ex.Message}");
                await Task.Delay(_options.RetryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }

        lock (_lock)
        {
            _cursor = cursor;
        }

        // While a backlog drains, the next batch is read from the outbox while the current one is encoded
        // and sent, so disk reads and InfluxDB writes overlap. It is used only if the cursor lands where
        // it was read from (a failed send keeps the cursor, and the prefetched batch is dropped).
        (long After, Task<OutboxBatch> Read)? prefetch = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            bool full;
            try
            {
                var ahead = prefetch;
                prefetch = null;
                var batch = ahead is { } read && read.After == cursor
                    ? await read.Read.ConfigureAwait(false)
                    : await _outbox.ReadAfterAsync(cursor, _options.BatchSize, cancellationToken).ConfigureAwait(false);
                UpdateLag(batch);
                full = batch.Records.Count >= _options.BatchSize;
                if (full)
                {
                    var after = batch.LastSequence;
                    prefetch = (after, Task.Run(() => _outbox.ReadAfterAsync(after, _options.BatchSize, cancellationToken).AsTask(), cancellationToken));
                }

                if (batch.Records.Count > 0)
                {
                    await ForwardAsync(batch, cancellationToken).ConfigureAwait(false);
                    cursor = batch.LastSequence;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Outbox (disk) failures: keep the cursor, wait, try again.
                RecordError($"outbox failure: {ex.Message}");
                LogOutboxFailed(_log, ex);
                full = false;
            }

            if (!full)
            {
                // Interval batching: with less than a full batch waiting, let more accumulate. A full
                // batch means a backlog: loop at once, one bounded batch at a time.
                try
                {
                    await Task.Delay(_options.FlushInterval, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Builds a forwarder from an <c>--influx</c> URL (see <see cref="InfluxEndpoint.Parse"/>; credentials
    /// from <paramref name="environment"/>, default the process environment). <paramref name="http"/> is
    /// not owned. Throws <see cref="InfluxConfigurationException"/> with a clear message for a bad URL.
    /// </summary>
    public static InfluxForwarder FromUrl(
        string influxUrl,
        IOutbox outbox,
        HttpClient http,
        InfluxForwarderOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger<InfluxForwarder>? logger = null,
        Func<string, string?>? environment = null)
    {
        var endpoint = InfluxEndpoint.Parse(influxUrl, environment);
        var client = new InfluxWriteClient(endpoint, http, timeProvider);
        return new InfluxForwarder(outbox, client, options, timeProvider, logger);
    }

    /// <inheritdoc/>
    public void Dispose() => _writer.Dispose();

    private async Task ForwardAsync(OutboxBatch batch, CancellationToken cancellationToken)
    {
        _writer.Clear();
        var lines = InfluxSchema.WriteRecords(_writer, batch.Records);
        if (lines > 0)
        {
            await _pipeline.ExecuteAsync(
                static async (state, ct) => await state.DeliverRangeAsync(0, state._writer.LineCount, ct).ConfigureAwait(false),
                this,
                cancellationToken).ConfigureAwait(false);
        }

        await _outbox.CommitAsync(batch.LastSequence, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            _cursor = batch.LastSequence;
            _linesWritten += lines;
            _rowsForwarded += batch.Records.Count;
            _lastSuccessAt = now;
            // Until the next read says otherwise, the oldest undelivered row is unknown: report none.
            _oldestUndelivered = null;

            if (_failing)
            {
                _failing = false;
                LogRecovered(_log, _client.Endpoint.TargetDescription);
            }
        }
    }

    /// <summary>
    /// Writes lines [from, to). On a refusal it quarantines exactly the lines the server named; when the
    /// error does not identify them all, it bisects (re-sending good lines is idempotent) until single
    /// refused lines remain. Anything else throws <see cref="InfluxUnavailableException"/> for the retry.
    /// </summary>
    private async Task DeliverRangeAsync(int from, int to, CancellationToken cancellationToken)
    {
        var result = await _client.WriteAsync(_writer.GetLines(from, to), cancellationToken).ConfigureAwait(false);
        switch (result.Status)
        {
            case InfluxWriteStatus.Ok:
                return;
            case InfluxWriteStatus.PartialWrite or InfluxWriteStatus.Rejected:
                var error = result.ServerError ?? result.Message;
                if (result.Status == InfluxWriteStatus.PartialWrite)
                {
                    var texts = new string[to - from];
                    for (var i = 0; i < texts.Length; i++)
                    {
                        texts[i] = _writer.GetLineText(from + i);
                    }

                    var analysis = PartialWriteAnalyzer.Analyze(error, texts);
                    if (analysis.Complete)
                    {
                        await QuarantineAsync(analysis.BadLines.Select(i => texts[i]).ToArray(), error, cancellationToken).ConfigureAwait(false);
                        return;
                    }
                }

                if (to - from == 1)
                {
                    await QuarantineAsync([_writer.GetLineText(from)], error, cancellationToken).ConfigureAwait(false);
                    return;
                }

                var mid = from + ((to - from) / 2);
                await DeliverRangeAsync(from, mid, cancellationToken).ConfigureAwait(false);
                await DeliverRangeAsync(mid, to, cancellationToken).ConfigureAwait(false);
                return;
            default:
                throw new InfluxUnavailableException(result);
        }
    }

    private async Task QuarantineAsync(string[] lines, string error, CancellationToken cancellationToken)
    {
        if (lines.Length == 0)
        {
            return;
        }

        await _outbox.QuarantineAsync(lines, error, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _quarantined += lines.Length;
        }

        LogQuarantined(_log, lines.Length, error);
    }

    private ResiliencePipeline BuildPipeline()
    {
        var handled = new PredicateBuilder().Handle<InfluxUnavailableException>();
        return new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                // Never give up: the data is safe in the outbox and the cursor does not move.
                ShouldHandle = new PredicateBuilder().Handle<InfluxUnavailableException>().Handle<BrokenCircuitException>(),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryDelay,
                MaxDelay = _options.MaxRetryDelay,
                DelayGenerator = static args =>
                    // Honour the server's Retry-After on 429/503 (RFC 9110 10.2.3).
                    ValueTask.FromResult(args.Outcome.Exception is InfluxUnavailableException { Result.RetryAfter: { } after } ? after : (TimeSpan?)null),
                OnRetry = async args =>
                {
                    var message = args.Outcome.Exception switch
                    {
                        InfluxUnavailableException e => e.Result.Message,
                        BrokenCircuitException => _lastError ?? "circuit open",
                        { } e => e.Message,
                        null => "unknown failure",
                    };
                    RecordError(message);
                    LogRetrying(_log, args.AttemptNumber + 1, args.RetryDelay, message);
                    await RefreshHeadAsync(args.Context.CancellationToken).ConfigureAwait(false);
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = handled,
                FailureRatio = 0.5,
                MinimumThroughput = _options.BreakerMinimumThroughput,
                SamplingDuration = _options.BreakerSamplingDuration,
                BreakDuration = _options.BreakDuration,
                StateProvider = _circuit,
            })
            .Build();
    }

    /// <summary>During an outage the loop is stuck retrying one batch: keep the lag in points current so a lag alarm can fire.</summary>
    private async ValueTask RefreshHeadAsync(CancellationToken cancellationToken)
    {
        long cursor;
        lock (_lock)
        {
            cursor = _cursor;
        }

        try
        {
            var peek = await _outbox.ReadAfterAsync(cursor, 1, cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _head = peek.HeadSequence;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Health only; the main loop reports outbox failures.
        }
    }

    private void UpdateLag(OutboxBatch batch)
    {
        lock (_lock)
        {
            _head = batch.HeadSequence;
            _oldestUndelivered = batch.Records.Count > 0 ? batch.Records[0].EnqueuedAt : null;
        }
    }

    private void RecordError(string message)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            _lastError = message;
            _lastErrorAt = now;
            _failing = true;
        }
    }

    private static string CircuitName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        _ => "isolated",
    };

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Forwarding the outbox to {Endpoint}")]
    private static partial void LogStarted(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "InfluxDB write failed (attempt {Attempt}), retrying in {Delay}: {Error}")]
    private static partial void LogRetrying(ILogger logger, int attempt, TimeSpan delay, string error);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Quarantined {Count} line(s) InfluxDB refused: {Error}")]
    private static partial void LogQuarantined(ILogger logger, int count, string error);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "InfluxDB writes to {Target} recovered")]
    private static partial void LogRecovered(ILogger logger, string target);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "Reading or committing the outbox failed; will retry")]
    private static partial void LogOutboxFailed(ILogger logger, Exception exception);
}
