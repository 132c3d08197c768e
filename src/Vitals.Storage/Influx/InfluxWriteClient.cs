using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Vitals.Storage.Influx;

/// <summary>How a write request ended.</summary>
public enum InfluxWriteStatus
{
    /// <summary>2xx: every line stored.</summary>
    Ok,

    /// <summary>400/422 "partial write": the good lines are stored, the ones named in the error are not.</summary>
    PartialWrite,

    /// <summary>Another 400/413/422: the server refused the data (for example a type conflict inside the batch).</summary>
    Rejected,

    /// <summary>401/403: credentials refused.</summary>
    Unauthorized,

    /// <summary>404: database or bucket does not exist.</summary>
    NotFound,

    /// <summary>408/429/5xx or a network failure: try again later.</summary>
    Retryable,

    /// <summary>Any other status: a configuration problem a retry will not fix by itself.</summary>
    Failed,
}

/// <summary>The outcome of one write request.</summary>
/// <param name="Status">Classification.</param>
/// <param name="HttpStatus">HTTP status code (0 when no response arrived).</param>
/// <param name="ServerError">The server's error text, if any.</param>
/// <param name="Message">A clear message for operators (never contains credentials).</param>
/// <param name="RetryAfter">The server's Retry-After, if it sent one.</param>
public sealed record InfluxWriteResult(
    InfluxWriteStatus Status,
    int HttpStatus,
    string? ServerError,
    string Message,
    TimeSpan? RetryAfter = null)
{
    /// <summary>True for 2xx.</summary>
    public bool IsSuccess => Status == InfluxWriteStatus.Ok;
}

/// <summary>
/// Posts line protocol to InfluxDB over <see cref="HttpClient"/>: 1.x <c>POST /write?db=&amp;rp=&amp;precision=ms</c>
/// with HTTP Basic auth (1.x accepts Basic or u/p; Basic keeps the password out of URLs and access
/// logs), 2.x/3.x <c>POST /api/v2/write?org=&amp;bucket=&amp;precision=ms</c> with
/// <c>Authorization: Token</c>. Bodies are gzip-compressed (<c>Content-Encoding: gzip</c>) unless disabled.
/// Thread-safe.
/// </summary>
public sealed class InfluxWriteClient
{
    private const int MaxErrorChars = 64 * 1024;
    private readonly HttpClient _http;
    private readonly InfluxEndpoint _endpoint;
    private readonly Uri _writeUri;
    private readonly AuthenticationHeaderValue? _auth;
    private readonly TimeProvider _time;

    /// <summary>Creates a client. <paramref name="http"/> is not disposed by this class.</summary>
    public InfluxWriteClient(InfluxEndpoint endpoint, HttpClient http, TimeProvider? timeProvider = null, bool gzip = true, TimeSpan? requestTimeout = null)
    {
        _endpoint = endpoint ?? throw new ArgumentNullException(nameof(endpoint));
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _time = timeProvider ?? TimeProvider.System;
        Gzip = gzip;
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(30);
        _writeUri = endpoint.WriteUri;
        _auth = endpoint.Authorization();
    }

    /// <summary>The endpoint written to.</summary>
    public InfluxEndpoint Endpoint => _endpoint;

    /// <summary>Whether bodies are gzip-compressed.</summary>
    public bool Gzip { get; }

    /// <summary>Time allowed for one request.</summary>
    public TimeSpan RequestTimeout { get; }

    /// <summary>Posts <paramref name="lines"/> (newline-terminated line protocol) and classifies the answer. Never throws for HTTP or network failures; throws only on cancellation by <paramref name="cancellationToken"/>.</summary>
    public async Task<InfluxWriteResult> WriteAsync(ReadOnlyMemory<byte> lines, CancellationToken cancellationToken)
    {
        using var compressed = Gzip ? new PooledByteBuffer(Math.Max(4096, lines.Length / 4)) : null;
        HttpContent content;
        if (compressed is not null)
        {
            using (var gz = new GZipStream(new BufferWriterStream(compressed), CompressionLevel.Fastest))
            {
                gz.Write(lines.Span);
            }

            content = new ReadOnlyMemoryContent(compressed.WrittenMemory);
            content.Headers.ContentEncoding.Add("gzip");
        }
        else
        {
            content = new ReadOnlyMemoryContent(lines);
        }

        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(HttpMethod.Post, _writeUri) { Content = content };
        request.Headers.Authorization = _auth;
        using var timeout = new CancellationTokenSource(RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new InfluxWriteResult(InfluxWriteStatus.Ok, code, null, "ok");
            }

            var body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            var error = ExtractError(body, response);
            return Classify(response.StatusCode, error, RetryAfter(response));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new InfluxWriteResult(InfluxWriteStatus.Retryable, 0, null,
                $"InfluxDB at {_endpoint.BaseAddress} did not answer within {RequestTimeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex)
        {
            return new InfluxWriteResult(InfluxWriteStatus.Retryable, 0, null,
                $"cannot reach InfluxDB at {_endpoint.BaseAddress}: {ex.Message}");
        }
    }

    private InfluxWriteResult Classify(HttpStatusCode status, string serverError, TimeSpan? retryAfter)
    {
        var code = (int)status;
        // Messages stay short for logs and the status page; ServerError keeps the full text for analysis.
        var error = serverError.Length > 500 ? serverError[..500] + "..." : serverError;
        var target = _endpoint.TargetDescription;
        switch (code)
        {
            case 400 or 413 or 422:
                var partial = error.Contains("partial write", StringComparison.OrdinalIgnoreCase);
                return new InfluxWriteResult(partial ? InfluxWriteStatus.PartialWrite : InfluxWriteStatus.Rejected, code, serverError,
                    $"InfluxDB refused {(partial ? "some lines" : "the batch")} for {target} (HTTP {code}): {error}");
            case 401 or 403:
                var hasCredentials = _endpoint.Api == InfluxApiVersion.V2 || _endpoint.Username is not null;
                return new InfluxWriteResult(InfluxWriteStatus.Unauthorized, code, serverError, hasCredentials
                    ? $"InfluxDB rejected the credentials for {target} (HTTP {code}): {_endpoint.CredentialHint}"
                    : $"InfluxDB requires credentials for {target} (HTTP {code}): set {InfluxEndpoint.UsernameVariable}/{InfluxEndpoint.PasswordVariable}");
            case 404:
                return new InfluxWriteResult(InfluxWriteStatus.NotFound, code, serverError, _endpoint.Api == InfluxApiVersion.V1
                    ? $"InfluxDB has no {target} (HTTP 404: {error}): create it (CREATE DATABASE \"{_endpoint.Database}\") or fix db= in --influx"
                    : $"InfluxDB found no {target} (HTTP 404: {error}): create the bucket or fix org=/bucket= in --influx");
            case 408 or 429 or >= 500:
                return new InfluxWriteResult(InfluxWriteStatus.Retryable, code, serverError,
                    $"InfluxDB is unavailable for {target} (HTTP {code}): {error}", retryAfter);
            default:
                return new InfluxWriteResult(InfluxWriteStatus.Failed, code, serverError,
                    $"InfluxDB answered HTTP {code} for {target}: {error}");
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        // RFC 9110 10.2.3: delay-seconds or an HTTP-date.
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private static string ExtractError(string body, HttpResponseMessage response)
    {
        if (body.Length > MaxErrorChars)
        {
            body = body[..MaxErrorChars];
        }

        // 1.x answers {"error":"..."}; 2.x/3.x {"code":"invalid","message":"..."}.
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
                {
                    return e.GetString()!;
                }

                if (doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                {
                    return m.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, plain text): fall through.
        }

        if (string.IsNullOrWhiteSpace(body) && response.Headers.TryGetValues("X-Influxdb-Error", out var values))
        {
            return string.Join("; ", values);
        }

        return string.IsNullOrWhiteSpace(body) ? response.ReasonPhrase ?? string.Empty : body.Trim();
    }

    /// <summary>Write-only stream into a <see cref="PooledByteBuffer"/>, so gzip output needs no MemoryStream copy.</summary>
    private sealed class BufferWriterStream(PooledByteBuffer target) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => target.Length;

        public override long Position
        {
            get => target.Length;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => target.Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => target.Write(buffer);
    }
}
