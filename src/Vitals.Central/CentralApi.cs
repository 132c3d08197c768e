using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Vitals.Storage;
using static Vitals.Web.WebPages;

namespace Vitals.Central;

/// <summary>Central's pages and read-only API: every site, every active alarm, one chair, status, and the live stream.</summary>
public static class CentralApi
{
    /// <summary>Maps the pages (<c>/</c>, <c>/sites/{site}/chairs/{chair}</c>, <c>/login</c>) and <c>/api/*</c>.</summary>
    public static IEndpointRouteBuilder MapCentral(this IEndpointRouteBuilder app, CentralOptions options)
    {
        app.MapGet("/", (HttpContext http) => Page(http, "central/index.html")).RequireRead(options);
        app.MapGet("/sites/{site}/chairs/{chair}", (string site, string chair, SiteBook book, HttpContext http) =>
            book.Chair(site, chair) is null ? Results.NotFound() : Page(http, "central/chair.html")).RequireRead(options);
        app.MapLoginPage();
        app.MapAuthApi();

        var api = app.MapGroup("/api").RequireRead(options);
        api.MapGet("/info", (TimeProvider time) => TypedResults.Ok(new CentralInfo("central", options.Demo, time.GetUtcNow(), options.Influx is not null)));
        api.MapGet("/sites", (SiteBook book, TimeProvider time) => TypedResults.Ok(book.Sites(time.GetUtcNow())));
        api.MapGet("/sites/{site}", Site);
        api.MapGet("/sites/{site}/chairs/{chair}", Chair);
        api.MapGet("/sites/{site}/chairs/{chair}/history", History);
        api.MapGet("/alarms", (SiteBook book, TimeProvider time) => TypedResults.Ok(book.Alarms(time.GetUtcNow())));
        api.MapGet("/alarms/history", (string? site, string? chair, SiteBook book) => TypedResults.Ok(book.History(site, chair)));
        api.MapGet("/status", Status);
        api.MapGet("/stream", Stream);
        app.MapGet("/healthz", () => TypedResults.Text("ok")).AllowAnonymous();
        return app;
    }

    private static Results<Ok<SiteView>, NotFound> Site(string site, SiteBook book, TimeProvider time) =>
        book.Site(site, time.GetUtcNow()) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound();

    private static Results<Ok<ChairView>, NotFound> Chair(string site, string chair, SiteBook book) =>
        book.Chair(site, chair) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound();

    /// <summary>The chair's trend over <paramref name="minutes"/> (30, 120 or 480) from the shared InfluxDB.</summary>
    private static async Task<Results<Ok<TrendView>, ProblemHttpResult>> History(
        string site, string chair, int? minutes, HttpContext http, CancellationToken ct)
    {
        if (http.RequestServices.GetService<InfluxHistory>() is not { } history)
        {
            return TypedResults.Problem(
                "Live values only: central was started without --influx, so it has no history.", statusCode: StatusCodes.Status404NotFound, title: "No history store");
        }

        var window = minutes ?? InfluxHistory.WindowMinutes[0];
        if (!InfluxHistory.WindowMinutes.Contains(window))
        {
            return TypedResults.Problem(
                $"minutes: {window} is not offered. Use one of {string.Join(", ", InfluxHistory.WindowMinutes)}.", statusCode: StatusCodes.Status400BadRequest, title: "Bad window");
        }

        try
        {
            return TypedResults.Ok(await history.TrendAsync(site, chair, window, ct).ConfigureAwait(false));
        }
        catch (HistoryUnavailableException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status502BadGateway, title: "History unavailable");
        }
    }

    private static Ok<CentralStatus> Status(SiteBook book, CentralLink link, EventHub hub, TimeProvider time) =>
        TypedResults.Ok(new CentralStatus(time.GetUtcNow(), link.Status(), book.Counters(), hub.SubscriberCount, hub.Overflows, hub.Coalesced));

    private static ServerSentEventsResult<string> Stream(
        SiteBook book, EventHub hub, CentralOptions options, TimeProvider time, IHostApplicationLifetime lifetime, HttpContext http)
    {
        // Linked to ApplicationStopping so an open stream does not hold shutdown for the whole timeout.
        var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        http.Response.RegisterForDispose(cts);
        return TypedResults.ServerSentEvents(hub.Subscribe(
            () =>
            {
                var now = time.GetUtcNow();
                var snapshot = new CentralSnapshot(now, options.UnackedSeconds, options.SilentSeconds, options.Influx is not null, book.Sites(now), book.Alarms(now));
                return new SseItem<string>(JsonSerializer.Serialize(snapshot, CentralJson.Options.TypeInfo<CentralSnapshot>()), "snapshot");
            },
            cts.Token));
    }

    /// <summary>Who answers, for the page header (and the pages' signed-out check).</summary>
    public sealed record CentralInfo(string Site, bool Demo, DateTimeOffset ServerTime, bool History);

    /// <summary>
    /// Everything the overview needs on connect: every site and alarm, central's limit for unacknowledged alarms and its
    /// silence limit (seconds), and <c>history</c>: true when trends come from InfluxDB, false for live values only.
    /// </summary>
    public sealed record CentralSnapshot(
        DateTimeOffset ServerTime, int UnackedSeconds, int SilentSeconds, bool History, List<SiteView> Sites, List<SiteAlarm> Alarms);

    /// <summary>
    /// Central's health: broker link, message counters (malformed and oversized messages are counted here), streams, streams
    /// closed for falling behind, and chair/site events a slow stream got only the newest of.
    /// </summary>
    public sealed record CentralStatus(
        DateTimeOffset ServerTime, CentralMqttStatus Mqtt, BookCounters Messages, int Streams, long StreamOverflows, long StreamCoalesced);
}
