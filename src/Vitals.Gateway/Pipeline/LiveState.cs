using Vitals.Core;

namespace Vitals.Gateway.Pipeline;

/// <summary>The latest value of one sign at one chair.</summary>
public sealed record LatestValue(double Value, string Unit, DateTimeOffset At, ObservationQuality Quality);

/// <summary>What the dashboard shows for one chair.</summary>
public sealed record ChairView(
    string Id,
    string Name,
    IReadOnlyList<FeedSnapshot> Feeds,
    IReadOnlyDictionary<Sign, LatestValue> Values,
    IReadOnlyList<AlarmEvent> Alarms);

/// <summary>Latest values and active alarms per chair, fed by the pipeline and read by the API and dashboard.</summary>
public sealed class LiveState
{
    private readonly Dictionary<string, ChairEntry> chairs;
    private readonly FeedRegistry feeds;

    /// <summary>Creates the state for the configured chairs.</summary>
    public LiveState(IEnumerable<(string Id, string Name)> chairList, FeedRegistry feeds)
    {
        this.feeds = feeds;
        chairs = chairList.ToDictionary(c => c.Id, c => new ChairEntry(c.Id, c.Name), StringComparer.Ordinal);
    }

    /// <summary>Configured chair ids in order.</summary>
    public IReadOnlyCollection<string> ChairIds => chairs.Keys;

    /// <summary>Records an observation as its chair's latest value of that sign.</summary>
    public void Apply(Observation o)
    {
        if (!chairs.TryGetValue(o.Chair, out var chair))
        {
            return;
        }

        lock (chair)
        {
            if (!chair.Values.TryGetValue(o.Sign, out var old) || old.At <= o.MeasuredAt)
            {
                chair.Values[o.Sign] = new LatestValue(o.Value, o.Unit, o.MeasuredAt, o.Quality);
            }
        }
    }

    /// <summary>Records an alarm transition: active ones are kept, cleared ones removed.</summary>
    public void Apply(AlarmEvent e)
    {
        // Audio pause events describe the pause, not an alarm condition; the dashboard shows them as a countdown.
        if (e.Rule == Core.Alarms.AlarmEngine.PauseRule || !chairs.TryGetValue(e.Chair, out var chair))
        {
            return;
        }

        lock (chair)
        {
            chair.Alarms.RemoveAll(a => a.Rule == e.Rule);
            if (e.State != AlarmState.Cleared)
            {
                chair.Alarms.Add(e);
            }
        }
    }

    /// <summary>A copy of every chair for display.</summary>
    public List<ChairView> Snapshot()
    {
        var feedList = feeds.Snapshot();
        return [.. chairs.Values.Select(c => View(c, feedList))];
    }

    /// <summary>A copy of one chair, or null when there is no such chair.</summary>
    public ChairView? Snapshot(string chairId) =>
        chairs.TryGetValue(chairId, out var chair) ? View(chair, feeds.Snapshot()) : null;

    private static ChairView View(ChairEntry c, List<FeedSnapshot> feedList)
    {
        lock (c)
        {
            return new ChairView(
                c.Id,
                c.Name,
                [.. feedList.Where(f => f.Chair == c.Id)],
                new Dictionary<Sign, LatestValue>(c.Values),
                [.. c.Alarms.OrderByDescending(a => a.Priority).ThenBy(a => a.At)]);
        }
    }

    private sealed class ChairEntry(string id, string name)
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public Dictionary<Sign, LatestValue> Values { get; } = [];

        public List<AlarmEvent> Alarms { get; } = [];
    }
}
