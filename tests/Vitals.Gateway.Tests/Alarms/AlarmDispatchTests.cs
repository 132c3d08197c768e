using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Tests.Alarms;

/// <summary>
/// What the engine commits leaves through one ordered queue: concurrent commands cannot reorder live state, and a
/// request that gives up waiting (aborted) cannot stop transitions, audit entries or dashboard updates already committed.
/// A sink that blocks on purpose holds the dispatch at a chosen transition.
/// </summary>
public sealed class AlarmDispatchTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConcurrentCommands_SecondCommittedWhileFirstIsDispatching_LiveStateAndSinksSeeCommitOrder()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        var alarms = host.App.Services.GetRequiredService<AlarmService>();
        var live = host.App.Services.GetRequiredService<LiveState>();
        var seen = new ConcurrentQueue<string>();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        alarms.AddSink(async (e, _) =>
        {
            if (e.Rule.StartsWith("gateway.test.", StringComparison.Ordinal))
            {
                seen.Enqueue($"{e.Rule} {e.State.ToString().ToLowerInvariant()}");
                if (e.Rule == "gateway.test.a")
                {
                    held.TrySetResult();
                    await release.Task;
                }
            }
        });

        // The first command raises a then b; its dispatch is held at a. The second, committed after it, clears b.
        var first = alarms.RunAsync(
            (e, now, events) =>
            {
                e.ReportGatewayFault("test.a", "A", true, now, events);
                e.ReportGatewayFault("test.b", "B", true, now, events);
                return 0;
            },
            CancellationToken.None);
        await held.Task.WaitAsync(Generous);
        var second = alarms.RunAsync(
            (e, now, events) =>
            {
                e.ReportGatewayFault("test.b", "B", false, now, events);
                return 0;
            },
            CancellationToken.None);
        Assert.DoesNotContain(alarms.Read((e, _) => e.Active), a => a.Rule == "gateway.test.b");

        release.SetResult();
        await Task.WhenAll(first, second).WaitAsync(Generous);
        Assert.Equal(["gateway.test.a raised", "gateway.test.b raised", "gateway.test.b cleared"], seen);
        Assert.Contains(live.GatewayAlarms(), a => a.Rule == "gateway.test.a");
        Assert.DoesNotContain(live.GatewayAlarms(), a => a.Rule == "gateway.test.b"); // no ghost alarm
    }

    [Fact]
    public async Task AcknowledgeChair_RequestAbortedWhileDispatching_EveryTransitionAuditAndStatusStillLeave()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await GatewayHost.StartAsync(
            GatewayHost.OneChair("stable", 1),
            TimeSpan.FromHours(1),
            beforeStart: app => app.Use(async (HttpContext context, RequestDelegate next) =>
            {
                if (context.Request.Path.Value!.EndsWith("/acknowledge", StringComparison.Ordinal))
                {
                    context.RequestAborted.Register(() => aborted.TrySetResult());
                }

                await next(context);
            }));
        var alarms = host.App.Services.GetRequiredService<AlarmService>();

        // Two alarms at once: NIBP readings are judged on arrival, without a condition delay.
        var now = DateTimeOffset.UtcNow;
        var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
        await pipeline.Writer.WriteAsync(new Observation("test-site", "chair-1", "sim-1", Sign.NibpSys, 75, now, now, SourceProtocol.Simulator));
        await pipeline.Writer.WriteAsync(new Observation("test-site", "chair-1", "sim-1", Sign.NibpDia, 45, now, now, SourceProtocol.Simulator));
        await GatewayHost.WaitUntil(Generous, () => Task.FromResult(alarms.Read((e, _) => e.Active.Count(a => a.Chair == "chair-1")) == 2));

        var acknowledged = new ConcurrentQueue<string>();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        alarms.AddSink(async (e, _) =>
        {
            if (e.Chair == "chair-1" && e.State == AlarmState.Acknowledged)
            {
                acknowledged.Enqueue(e.Rule);
                held.TrySetResult();
                await release.Task;
            }
        });

        using var stream = await SseReader.OpenAsync(host.Http);
        using (var cts = new CancellationTokenSource())
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("api/chairs/chair-1/acknowledge", UriKind.Relative));
            message.Headers.Add("X-CSRF-TOKEN", await GatewayHost.CsrfAsync(host.Http));
            var request = host.Http.SendAsync(message, cts.Token);
            await held.Task.WaitAsync(Generous);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await cts.CancelAsync();
                await request;
            });
        }

        // The client's request is gone (and the server saw it go) before the dispatch moves on.
        await aborted.Task.WaitAsync(Generous);
        release.SetResult();

        await GatewayHost.WaitUntil(Generous, () => Task.FromResult(acknowledged.Count == 2));
        Assert.Equal(["nibp_dia.low", "nibp_sys.low"], acknowledged.Order());
        await GatewayHost.WaitUntil(Generous, async () => (await Events(host, "alarm")).Count(e => e.GetProperty("state").GetString() == "acknowledged") == 2);
        await GatewayHost.WaitUntil(Generous, async () => (await Events(host, "audit")).Any(e => e.GetProperty("action").GetString() == "alarm.acknowledged_all"));
        var status = await stream.NextAsync("status", Generous);
        Assert.Equal("chair-1", status.GetProperty("chair").GetString());
        Assert.All(status.GetProperty("alarms").EnumerateArray(), a => Assert.True(a.GetProperty("acknowledged").GetBoolean()));
    }

    [Fact]
    public async Task EveryNurseAction_SendsTheChairsNewStatusToDashboards()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        var now = DateTimeOffset.UtcNow;
        var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
        await pipeline.Writer.WriteAsync(new Observation("test-site", "chair-1", "sim-1", Sign.NibpSys, 75, now, now, SourceProtocol.Simulator));
        await pipeline.Writer.WriteAsync(new Observation("test-site", "chair-1", "sim-1", Sign.NibpDia, 45, now, now, SourceProtocol.Simulator));
        var alarms = host.App.Services.GetRequiredService<AlarmService>();
        await GatewayHost.WaitUntil(Generous, () => Task.FromResult(alarms.Read((e, _) => e.Active.Count(a => a.Chair == "chair-1")) == 2));
        using var stream = await SseReader.OpenAsync(host.Http);

        (HttpMethod Method, string Path, object? Body, Func<JsonElement, bool> Shows)[] actions =
        [
            (HttpMethod.Post, "api/chairs/chair-1/alarms/nibp_sys.low/acknowledge", null, s => Alarm(s, "nibp_sys.low").GetProperty("acknowledged").GetBoolean()),
            (HttpMethod.Post, "api/chairs/chair-1/acknowledge", null, s => Alarm(s, "nibp_dia.low").GetProperty("acknowledged").GetBoolean()),
            (HttpMethod.Post, "api/chairs/chair-1/pause", new { seconds = 60 }, s => s.GetProperty("pauseRemainingSeconds").GetInt32() > 0),
            (HttpMethod.Post, "api/chairs/chair-1/resume", null, s => s.GetProperty("pauseRemainingSeconds").GetInt32() == 0),
            (HttpMethod.Post, "api/pause", new { seconds = 60 }, s => s.GetProperty("pauseRemainingSeconds").GetInt32() > 0),
            (HttpMethod.Post, "api/resume", null, s => s.GetProperty("pauseRemainingSeconds").GetInt32() == 0),
            (HttpMethod.Post, "api/chairs/chair-1/session", new { patientPseudonym = "P-0001", drug = "magnesium sulfate", profile = AlarmProfiles.MgSo4Name }, s => s.GetProperty("session").ValueKind == JsonValueKind.Object),
            (HttpMethod.Post, "api/chairs/chair-1/checks/patellar_reflex/confirm", null, s => s.GetProperty("session").ValueKind == JsonValueKind.Object),
            (HttpMethod.Delete, "api/chairs/chair-1/session", null, s => !s.TryGetProperty("session", out var session) || session.ValueKind == JsonValueKind.Null),
        ];
        foreach (var (method, path, body, shows) in actions)
        {
            using var response = await GatewayHost.SendAsync(host.Http, method, path, body);
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var status = await stream.NextAsync("status", Generous);
            Assert.Equal("chair-1", status.GetProperty("chair").GetString());
            Assert.True(shows(status), $"{method} {path}: the status event does not show the action: {status}");
        }
    }

    private static JsonElement Alarm(JsonElement status, string rule) =>
        status.GetProperty("alarms").EnumerateArray().Single(a => a.GetProperty("rule").GetString() == rule);

    private static async Task<List<JsonElement>> Events(GatewayHost host, string type)
    {
        using var doc = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri($"api/events?type={type}&limit=1000", UriKind.Relative)));
        return [.. doc.RootElement.EnumerateArray().Select(e => JsonDocument.Parse(e.GetProperty("data").GetString()!).RootElement.Clone())];
    }
}

/// <summary>Reads the dashboard stream (<c>/api/stream</c>) event by event.</summary>
internal sealed class SseReader : IDisposable
{
    private readonly HttpResponseMessage response;
    private readonly StreamReader reader;

    private SseReader(HttpResponseMessage response, Stream stream)
    {
        this.response = response;
        reader = new StreamReader(stream);
    }

    public static async Task<SseReader> OpenAsync(HttpClient client)
    {
        var response = await client.GetAsync(new Uri("api/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        var sse = new SseReader(response, await response.Content.ReadAsStreamAsync());
        await sse.NextAsync("snapshot", TimeSpan.FromSeconds(30));
        return sse;
    }

    /// <summary>The data of the next event of <paramref name="type"/>, skipping others; fails the test after <paramref name="timeout"/> or at the end of the stream.</summary>
    public async Task<JsonElement> NextAsync(string type, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        string? eventType = null;
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventType = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventType == type)
            {
                return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
        }

        Assert.Fail($"the stream ended before a '{type}' event");
        return default;
    }

    public void Dispose()
    {
        reader.Dispose();
        response.Dispose();
    }
}
