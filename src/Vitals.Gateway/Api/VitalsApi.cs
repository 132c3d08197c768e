using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Vitals.Core;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Config;
using Vitals.Gateway.Mqtt;
using Vitals.Gateway.Pipeline;
using Vitals.Gateway.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Api;

/// <summary>The read-only dashboard API: chairs, history, alarms, status, and the live event stream.</summary>
public static class VitalsApi
{
    /// <summary>The longest history one request may ask for.</summary>
    public static readonly TimeSpan MaxHistory = TimeSpan.FromHours(24);

    /// <summary>Fewest readings per sign a thinned history (<c>points</c>) may ask for: one slice's lowest and highest.</summary>
    public const int MinTrendPoints = 2;

    /// <summary>Most readings per sign a thinned history may ask for.</summary>
    public const int MaxTrendPoints = 20_000;

    private const int MaxThinnedScan = 1_000_000;

    /// <summary>Maps the endpoints under <c>/api</c>.</summary>
    public static IEndpointRouteBuilder MapVitalsApi(this IEndpointRouteBuilder app, GatewayOptions options)
    {
        var api = app.MapGroup("/api").RequireRead(options);
        api.MapGet("/info", Info);
        api.MapGet("/chairs", (LiveState live) => TypedResults.Ok(live.Snapshot()));
        api.MapGet("/chairs/{id}", Chair);
        api.MapGet("/chairs/{id}/history", History);
        api.MapGet("/alarms", (AlarmService alarms) => TypedResults.Ok(alarms.Read((e, _) => e.Active)));
        api.MapGet("/events", Events);
        api.MapGet("/status", Status);
        api.MapGet("/stream", Stream);
        app.MapGet("/healthz", () => TypedResults.Text("ok")).AllowAnonymous();
        return app;
    }

    private static Ok<InfoView> Info(GatewayOptions options, TimeProvider time) =>
        TypedResults.Ok(new InfoView(options.Site, options.Demo, time.GetUtcNow(), SafetyNotice.Text));

    private static Results<Ok<ChairView>, NotFound> Chair(string id, LiveState live) =>
        live.Snapshot(id) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound();

    private static Results<Ok<List<ObsView>>, NotFound, ProblemHttpResult> History(
        string id, LiveState live, SqliteStore store, TimeProvider time, int? minutes, DateTimeOffset? from, DateTimeOffset? to, int? points)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        if (minutes is { } m && (m < 1 || m > MaxHistory.TotalMinutes))
        {
            return TypedResults.Problem(
                $"minutes: use 1-{MaxHistory.TotalMinutes} (at most {MaxHistory.TotalHours} h).", statusCode: StatusCodes.Status400BadRequest, title: "minutes is out of range");
        }

        var end = to ?? time.GetUtcNow();
        var start = from ?? end - TimeSpan.FromMinutes(minutes ?? 30);
        if (start >= end || end - start > MaxHistory)
        {
            return TypedResults.Problem(
                $"from/to/minutes: the range must be positive and at most {MaxHistory.TotalHours} h.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (points is < MinTrendPoints or > MaxTrendPoints)
        {
            return TypedResults.Problem(
                $"points: use {MinTrendPoints}-{MaxTrendPoints} (readings per sign; longer windows keep each time slice's lowest and highest), or leave it out for every reading.",
                statusCode: StatusCodes.Status400BadRequest, title: "points is out of range");
        }

        // Unthinned, a reply stops at the store's default 100,000 readings, which 8 h of four 1 Hz signs already passes
        // (the newest readings were cut); thinned, the server reads the whole window (24 h of 11 signs at 1 Hz fits).
        var readings = points is null ? store.Query(id, start, end) : store.Query(id, start, end, MaxThinnedScan);
        var shown = points is { } p ? TrendThinning.MinMax(readings, start, end, p) : readings;
        return TypedResults.Ok(shown.Select(ObsView.From).ToList());
    }

    // A read without a type skips admin-only entries; it stops after this many rows so one request stays cheap.
    private const int MaxScan = 200_000;

    /// <summary>Event log types every reader may see; the rest (audit, alarm configuration) are for admins only.</summary>
    public static readonly IReadOnlyList<string> ReadableEventTypes = [SqliteStore.AlarmEventType, SqliteStore.FeedStatusEventType];

    private static Results<Ok<List<StoredEvent>>, ValidationProblem> Events(SqliteStore store, HttpContext http, long? after, string? type, string? chair, int? limit)
    {
        if (limit is < 1 or > 1000)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["Use 1-1000."] });
        }

        var max = limit ?? 200;
        if (http.User.IsInRole(Roles.Admin))
        {
            return TypedResults.Ok(store.ReadEvents(after ?? 0, type, chair, max));
        }

        if (type is not null)
        {
            return ReadableEventTypes.Contains(type)
                ? TypedResults.Ok(store.ReadEvents(after ?? 0, type, chair, max))
                : TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["type"] = [$"Use one of {string.Join(", ", ReadableEventTypes)}; other event types are for admins (GET /api/admin/audit)."],
                });
        }

        // Without a type, read on past the admin-only entries until the page is full or the log ends.
        var result = new List<StoredEvent>(max);
        for (long from = after ?? 0, scanned = 0; result.Count < max && scanned < MaxScan;)
        {
            var page = store.ReadEvents(from, null, chair, 1000);
            if (page.Count == 0)
            {
                break;
            }

            from = page[^1].Id;
            scanned += page.Count;
            result.AddRange(page.Where(e => ReadableEventTypes.Contains(e.Type)).Take(max - result.Count));
        }

        return TypedResults.Ok(result);
    }

    private static Ok<StatusView> Status(
        FeedRegistry feeds, LiveState live, ObservationPipeline pipeline, StoreWriter writer, EventHub hub, StorageMaintenance storage, MqttBridge mqtt,
        DeviceClocks clocks, AlarmService alarms, TimeProvider time, HttpContext http) =>
        TypedResults.Ok(new StatusView(
            time.GetUtcNow(), feeds.Snapshot(), pipeline.Processed, pipeline.Queued, writer.Written, writer.Pending, hub.SubscriberCount, storage.Health(),
            live.ChairIds.ToDictionary(c => c, live.StaleSigns, StringComparer.Ordinal),
            http.RequestServices.GetService<Feeds.Hl7FeedService>()?.Sources,
            mqtt.Status(),
            clocks.Status(time.GetUtcNow()),
            alarms.ClockSteps));

    private static ServerSentEventsResult<string> Stream(
        LiveState live, EventHub hub, GatewayOptions options, TimeProvider time, IHostApplicationLifetime lifetime, HttpContext http)
    {
        // Linked to ApplicationStopping so an open stream does not hold shutdown for the whole timeout.
        var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        http.Response.RegisterForDispose(cts);
        return TypedResults.ServerSentEvents(hub.Subscribe(
            () => new SseItem<string>(
                JsonSerializer.Serialize(
                    new SnapshotView(options.Site, options.Demo, time.GetUtcNow(), live.Snapshot(), live.GatewayAlarms(), live.Stale.Seconds()),
                    GatewayJson.Options),
                "snapshot"),
            cts.Token));
    }

    /// <summary>Gateway identity for the dashboard header.</summary>
    public sealed record InfoView(string Site, bool Demo, DateTimeOffset ServerTime, string Notice);

    /// <summary>Everything the dashboard needs on connect; <paramref name="StaleSeconds"/> are the limits it judges a value's age by.</summary>
    public sealed record SnapshotView(
        string Site, bool Demo, DateTimeOffset ServerTime, List<ChairView> Chairs, List<AlarmEvent> GatewayAlarms, IReadOnlyDictionary<Sign, double> StaleSeconds);

    /// <summary>Pipeline and feed health: per-feed counters, stale signs per chair, and HL7 counters per sending address.</summary>
    public sealed record StatusView(
        DateTimeOffset ServerTime,
        List<FeedSnapshot> Feeds,
        long Processed,
        int Queued,
        long Stored,
        int StorePending,
        int Streams,
        StorageHealth Storage,
        Dictionary<string, IReadOnlyList<Vitals.Core.Sign>> StaleSigns,
        IReadOnlyList<Vitals.Devices.Mllp.MllpSourceStats>? Hl7Sources,
        MqttStatusView? Mqtt = null,
        DeviceClockStatus? DeviceClocks = null,
        ClockStepStatus? ClockSteps = null);
}

/// <summary>The safety statement shown on every screen and in the README.</summary>
public static class SafetyNotice
{
    /// <summary>The statement.</summary>
    public const string Text =
        "Secondary display only. Vitals is an alerting aid, not a medical device: it does not diagnose or treat, and its alarms cannot be relied on for confirmed delivery. The bedside monitor's own alarms remain primary.";
}
