using System.Text.Json;
using Vitals.Core;
using Vitals.Storage;

namespace Vitals.Central;

/// <summary>How one site's gateway looks from central.</summary>
/// <param name="State"><c>online</c> or <c>offline</c> as its status topic (or last will) says, <c>unknown</c> before any status.</param>
/// <param name="Live">True while the gateway is online, heard from within the silence limit, and central is connected to the broker.</param>
/// <param name="Reason">Why the site is not live, in words; null when live.</param>
/// <param name="LastHeard">When central last received any message of the site (central's clock).</param>
/// <param name="Since">When the site last became live or not live.</param>
/// <param name="Version">The gateway's version, from its status.</param>
public sealed record GatewayView(string State, bool Live, string? Reason, DateTimeOffset LastHeard, DateTimeOffset Since, string? Version);

/// <summary>One site: its gateway, its chairs (the gateway's own chair JSON), and alarms of the gateway itself.</summary>
public sealed record SiteView(string Site, GatewayView Gateway, List<ChairView> Chairs, List<AlarmEvent> GatewayAlarms);

/// <summary>
/// An active alarm of any site, as central lists it: the gateway's alarm fields, plus the chair's display name,
/// <c>unackedSince</c> (since when it is unacknowledged at its site; null when acknowledged) and <c>overdue</c>
/// (unacknowledged for longer than central's limit: highlighted). Central's own site-offline alarm names the site it is about.
/// </summary>
public sealed record SiteAlarm(
    string Site,
    string Chair,
    string ChairName,
    string Rule,
    Sign? Sign,
    AlarmPriority? Priority,
    AlarmKind Kind,
    AlarmState State,
    double? Value,
    double? Limit,
    string Message,
    DateTimeOffset At,
    DateTimeOffset? UnackedSince,
    bool Overdue);

/// <summary>
/// What one message or tick changed: a chair's state, a site's gateway, and/or the alarm list; <paramref name="Transition"/>
/// is the alarm transition the message carried (new to the history), if any.
/// </summary>
public sealed record BookChange(string Site, string? Chair, bool GatewayChanged, bool AlarmsChanged, AlarmEvent? Transition = null);

/// <summary>Message counters for <c>/api/status</c>.</summary>
/// <param name="Received">Messages read from the broker.</param>
/// <param name="Malformed">Messages that were not the JSON the gateways publish (counted and skipped).</param>
/// <param name="Oversized">Messages above the payload limit (counted and skipped unread).</param>
/// <param name="OtherTopics">Messages on topics central does not read (counted and skipped).</param>
/// <param name="LastBad">Topic and reason of the last skipped message (never the payload).</param>
public sealed record BookCounters(long Received, long Malformed, long Oversized, long OtherTopics, string? LastBad);

/// <summary>
/// Every site's gateway state, chairs and active alarms, built only from what the gateways publish
/// (<c>&lt;prefix&gt;/&lt;site&gt;/&lt;chair&gt;/state</c>, <c>.../alarm</c>, <c>&lt;prefix&gt;/&lt;site&gt;/gateway/status</c>).
/// Pure: messages, broker connection changes and clock ticks in, views out; central judges no physiological alarm, it
/// shows what the sites raised and adds one technical alarm of its own per site that is not live.
/// </summary>
public sealed class SiteBook
{
    /// <summary>Rule id of central's technical alarm for a site that is not live.</summary>
    public const string OfflineRule = "central.site_offline";

    /// <summary>The chair level of a gateway's own topics (status, and alarms about the gateway itself).</summary>
    public const string GatewayLevel = "gateway";

    /// <summary>Alarm transitions kept for <see cref="History"/>, newest first; older ones are in the sites' logs and InfluxDB.</summary>
    public const int HistoryLimit = 1000;

    private const string PauseRule = "audio.pause";

    private readonly Lock gate = new();
    private readonly string prefix;
    private readonly TimeSpan silentAfter;
    private readonly TimeSpan unackedAfter;
    private readonly int maxPayload;
    private readonly SortedDictionary<string, SiteEntry> sites = new(StringComparer.Ordinal);
    private readonly LinkedList<AlarmEvent> history = new();
    private bool brokerConnected;
    private long received;
    private long malformed;
    private long oversized;
    private long otherTopics;
    private string? lastBad;

    /// <summary>Creates an empty book for topics under <paramref name="prefix"/>.</summary>
    public SiteBook(string prefix, TimeSpan silentAfter, TimeSpan unackedAfter, int maxPayload = CentralOptions.DefaultMaxPayloadBytes)
    {
        this.prefix = prefix + "/";
        this.silentAfter = silentAfter;
        this.unackedAfter = unackedAfter;
        this.maxPayload = maxPayload;
    }

    /// <summary>How long an alarm may stay unacknowledged before it is highlighted.</summary>
    public TimeSpan UnackedAfter => unackedAfter;

    /// <summary>
    /// Applies one message received at <paramref name="now"/>. <paramref name="retained"/> is the broker's retain flag:
    /// a retained copy proves nothing about the site being alive now, a live message does. Never throws on bad input:
    /// it is counted and skipped, and null is returned.
    /// </summary>
    public BookChange? Apply(string topic, ReadOnlySpan<byte> payload, bool retained, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(topic);
        lock (gate)
        {
            received++;
            if (!TrySplit(topic, out var siteName, out var chair, out var kind))
            {
                otherTopics++;
                return null;
            }

            if (payload.Length > maxPayload)
            {
                return Bad(ref oversized, topic, $"{payload.Length} bytes, above the {maxPayload} byte limit");
            }

            try
            {
                return kind switch
                {
                    "status" when chair == GatewayLevel => ApplyStatus(siteName, Parse<MqttGatewayStatus>(payload), retained, now),
                    "state" => ApplyState(siteName, chair, Parse<MqttChairState>(payload), retained, now),
                    "alarm" => ApplyAlarm(siteName, chair, Parse<MqttAlarmMessage>(payload), retained, now),
                    _ => Other(),
                };
            }
            catch (Exception e) when (e is JsonException or FormatException or NotSupportedException or ArgumentException)
            {
                return Bad(ref malformed, topic, e is FormatException ? e.Message : "not the JSON a gateway publishes");
            }
        }
    }

    /// <summary>Central's own broker connection: while it is down no site is live.</summary>
    public List<BookChange> SetBrokerConnected(bool connected, DateTimeOffset now)
    {
        lock (gate)
        {
            brokerConnected = connected;
            return Reevaluate(now);
        }
    }

    /// <summary>Advances time: silent sites go offline, unacknowledged alarms become overdue.</summary>
    public List<BookChange> Tick(DateTimeOffset now)
    {
        lock (gate)
        {
            var changes = Reevaluate(now);
            foreach (var site in sites.Values)
            {
                var overdue = site.Unacked.Count(u => now - u.Value >= unackedAfter);
                if (overdue != site.OverdueCount)
                {
                    site.OverdueCount = overdue;
                    changes.Add(new BookChange(site.Name, null, false, true));
                }
            }

            return changes;
        }
    }

    /// <summary>Every site, by name.</summary>
    public List<SiteView> Sites(DateTimeOffset now)
    {
        lock (gate)
        {
            return [.. sites.Values.Select(s => View(s, now))];
        }
    }

    /// <summary>One site, or null.</summary>
    public SiteView? Site(string name, DateTimeOffset now)
    {
        lock (gate)
        {
            return sites.TryGetValue(name, out var s) ? View(s, now) : null;
        }
    }

    /// <summary>One chair of one site, or null.</summary>
    public ChairView? Chair(string site, string chair)
    {
        lock (gate)
        {
            return sites.TryGetValue(site, out var s) && s.Chairs.TryGetValue(chair, out var c) ? ChairOf(s, c) : null;
        }
    }

    /// <summary>Active alarms of every site, highest priority first, then overdue first, then oldest first.</summary>
    public List<SiteAlarm> Alarms(DateTimeOffset now)
    {
        lock (gate)
        {
            var all = new List<SiteAlarm>();
            foreach (var site in sites.Values)
            {
                CollectAlarms(site, now, all);
            }

            return Ordered(all);
        }
    }

    /// <summary>
    /// Active alarms of one site, in the order of <see cref="Alarms"/> (empty for an unknown site). The dashboards
    /// merge these into their list: a change costs the size of one site, not of every site (see CentralLink).
    /// </summary>
    public List<SiteAlarm> SiteAlarms(string site, DateTimeOffset now)
    {
        lock (gate)
        {
            var list = new List<SiteAlarm>();
            if (sites.TryGetValue(site, out var entry))
            {
                CollectAlarms(entry, now, list);
            }

            return Ordered(list);
        }
    }

    /// <summary>
    /// The alarm transitions central heard (each site's alarm topic, since central started), newest first, optionally of
    /// one site and chair; at most <see cref="HistoryLimit"/> are kept. Transitions a site published while central was
    /// away arrive when it is back (persistent session), so an alarm raised and cleared meanwhile is listed here.
    /// </summary>
    public List<AlarmEvent> History(string? site = null, string? chair = null)
    {
        lock (gate)
        {
            return [.. history.Where(e => (site is null || e.Site == site) && (chair is null || e.Chair == chair))];
        }
    }

    /// <summary>The message counters.</summary>
    public BookCounters Counters()
    {
        lock (gate)
        {
            return new BookCounters(received, malformed, oversized, otherTopics, lastBad);
        }
    }

    private static List<SiteAlarm> Ordered(List<SiteAlarm> alarms) =>
        [.. alarms.OrderByDescending(a => a.Priority).ThenByDescending(a => a.Overdue).ThenBy(a => a.UnackedSince ?? a.At)];

    private void CollectAlarms(SiteEntry site, DateTimeOffset now, List<SiteAlarm> into)
    {
        if (OfflineAlarm(site) is { } offline)
        {
            into.Add(ToSiteAlarm(site, offline, "Gateway", now));
        }

        into.AddRange(site.GatewayAlarms.Select(a => ToSiteAlarm(site, a, "Gateway", now)));
        foreach (var chair in site.Chairs.Values)
        {
            into.AddRange(chair.Alarms.Select(a => ToSiteAlarm(site, a, chair.Name, now)));
        }
    }

    private static T Parse<T>(ReadOnlySpan<byte> payload) =>
        JsonSerializer.Deserialize(payload, Json.Options.TypeInfo<T>()) ?? throw new FormatException("empty JSON (null)");

    private bool TrySplit(string topic, out string site, out string chair, out string kind)
    {
        site = chair = kind = "";
        if (!topic.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var levels = topic[prefix.Length..].Split('/');
        if (levels.Length != 3 || levels.Any(l => l.Length == 0))
        {
            return false;
        }

        (site, chair, kind) = (levels[0], levels[1], levels[2]);
        return kind is "state" or "alarm" or "status";
    }

    private BookChange? Other()
    {
        otherTopics++;
        return null;
    }

    private BookChange? Bad(ref long counter, string topic, string reason)
    {
        counter++;
        lastBad = $"{topic}: {reason}";
        return null;
    }

    private BookChange ApplyStatus(string siteName, MqttGatewayStatus status, bool retained, DateTimeOffset now)
    {
        if (status.State is not ("online" or "offline"))
        {
            throw new FormatException($"status '{status.State}' is neither online nor offline");
        }

        var site = Heard(siteName, now, retained);
        site.State = status.State;
        site.Version = status.Version ?? site.Version;
        var changed = Evaluate(site, now);
        return new BookChange(siteName, null, true, changed);
    }

    private BookChange ApplyState(string siteName, string chairId, MqttChairState state, bool retained, DateTimeOffset now)
    {
        if (chairId == GatewayLevel || state.Values is null || state.Alarms is null)
        {
            throw new FormatException(chairId == GatewayLevel ? "a state on the gateway's own level" : "state without values or alarms");
        }

        var values = new Dictionary<Sign, LatestValue>();
        foreach (var (name, v) in state.Values)
        {
            if (Signs.TryParse(name, out var sign) && v is not null)
            {
                values[sign] = new LatestValue(v.Value, v.Unit ?? "", v.Time, v.Quality ?? ObservationQuality.Ok);
            }
        }

        var stale = new List<Sign>();
        foreach (var name in state.StaleSigns ?? [])
        {
            if (name is not null && Signs.TryParse(name, out var sign))
            {
                stale.Add(sign);
            }
        }

        var site = Heard(siteName, now, retained);
        var chair = Chair(site, chairId);
        chair.Name = string.IsNullOrWhiteSpace(state.Name) ? chairId : state.Name;
        chair.Values = values;
        chair.StaleSigns = stale;
        var alarms = state.Alarms.Where(a => a is not null && a.Rule != PauseRule)
            .Select(a => new AlarmEvent(siteName, chairId, a.Rule, a.Sign, a.Priority, a.Kind, a.State, a.Value, a.Limit, a.Message ?? "", a.Time))
            .ToList();
        var alarmsChanged = !SameAlarms(chair.Alarms, alarms);
        chair.Alarms = alarms;
        TrackUnacked(site, chairId, alarms, now);
        var liveChanged = Evaluate(site, now);
        return new BookChange(siteName, chairId, liveChanged, alarmsChanged || liveChanged);
    }

    private BookChange? ApplyAlarm(string siteName, string chairId, MqttAlarmMessage message, bool retained, DateTimeOffset now)
    {
        if (message.Rule is null || message.Message is null)
        {
            throw new FormatException("alarm without rule or message");
        }

        var site = Heard(siteName, now, retained);
        var liveChanged = Evaluate(site, now);
        if (message.Rule == PauseRule)
        {
            return liveChanged ? new BookChange(siteName, null, true, true) : null;
        }

        var e = new AlarmEvent(siteName, chairId, message.Rule, message.Sign, message.Priority, message.Kind, message.State, message.Value, message.Limit, message.Message, message.Time, message.User);
        List<AlarmEvent> list;
        if (chairId == GatewayLevel)
        {
            list = site.GatewayAlarms;
        }
        else
        {
            list = Chair(site, chairId).Alarms;
        }

        list.RemoveAll(a => a.Rule == e.Rule);
        if (e.State != AlarmState.Cleared)
        {
            list.Add(e);
            list.Sort(HighestFirst);
        }

        TrackUnacked(site, chairId, list, now);
        return new BookChange(siteName, chairId == GatewayLevel ? null : chairId, liveChanged || chairId == GatewayLevel, true, Remember(e));
    }

    /// <summary>Adds <paramref name="e"/> to the history unless it is there already (QoS 1 may deliver a message twice); null then.</summary>
    private AlarmEvent? Remember(AlarmEvent e)
    {
        if (history.Contains(e))
        {
            return null;
        }

        history.AddFirst(e);
        if (history.Count > HistoryLimit)
        {
            history.RemoveLast();
        }

        return e;
    }

    private SiteEntry Heard(string name, DateTimeOffset now, bool retained = false)
    {
        if (!sites.TryGetValue(name, out var site))
        {
            site = new SiteEntry(name, now);
            sites[name] = site;
        }

        // A retained copy may be hours old (its site long gone): only live traffic counts as hearing from the site.
        if (!retained)
        {
            site.LastHeard = now;

            // A live message after an "offline" status means the gateway is publishing again (a cluster node may still
            // hold an old retained "offline" while the new "online" went to another node).
            if (site.State == "offline" && site.OfflineStatusAt < now)
            {
                site.State = "online";
            }
        }

        return site;
    }

    private static ChairEntry Chair(SiteEntry site, string id)
    {
        if (!site.Chairs.TryGetValue(id, out var chair))
        {
            chair = new ChairEntry(id);
            site.Chairs[id] = chair;
        }

        return chair;
    }

    private List<BookChange> Reevaluate(DateTimeOffset now) =>
        [.. sites.Values.Where(s => Evaluate(s, now)).Select(s => new BookChange(s.Name, null, true, true))];

    /// <summary>Recomputes whether <paramref name="site"/> is live; true when that changed.</summary>
    private bool Evaluate(SiteEntry site, DateTimeOffset now)
    {
        var reason = !brokerConnected ? $"Site {site.Name} not reachable: central lost its broker connection"
            : site.State == "offline" ? $"Site {site.Name} gateway offline"
            : now - site.LastHeard >= silentAfter ? $"Site {site.Name} gateway offline: nothing received for {(int)(now - site.LastHeard).TotalSeconds} s"
            : null;
        if (site.State == "offline")
        {
            site.OfflineStatusAt ??= now;
        }
        else
        {
            site.OfflineStatusAt = null;
        }

        if ((reason is null) == (site.Reason is null))
        {
            // Still (not) live; a silent site's message keeps its first wording so the alarm does not flicker.
            return false;
        }

        site.Reason = reason;
        site.Since = now;
        return true;
    }

    private AlarmEvent? OfflineAlarm(SiteEntry site) =>
        site.Reason is { } reason
            ? new AlarmEvent(site.Name, GatewayLevel, OfflineRule, null, AlarmPriority.High, AlarmKind.Technical, AlarmState.Raised, null, null,
                reason + ": its chairs are NOT LIVE here; check the site.", site.Since)
            : null;

    private void TrackUnacked(SiteEntry site, string chairId, List<AlarmEvent> active, DateTimeOffset now)
    {
        var rules = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in active)
        {
            var key = (chairId, a.Rule);
            if (IsUnacknowledged(a.State))
            {
                rules.Add(a.Rule);

                // The site's clock may be off: never later than when central first saw it.
                site.Unacked.TryAdd(key, a.At < now ? a.At : now);
            }
        }

        foreach (var key in site.Unacked.Keys.Where(k => k.Chair == chairId && !rules.Contains(k.Rule)).ToList())
        {
            site.Unacked.Remove(key);
        }
    }

    private static int HighestFirst(AlarmEvent x, AlarmEvent y)
    {
        var byPriority = (y.Priority ?? 0).CompareTo(x.Priority ?? 0);
        return byPriority != 0 ? byPriority : x.At.CompareTo(y.At);
    }

    private static bool IsUnacknowledged(AlarmState state) =>
        state is AlarmState.Raised or AlarmState.Escalated or AlarmState.Reannounced or AlarmState.Latched;

    private static bool SameAlarms(List<AlarmEvent> a, List<AlarmEvent> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Rule == p.Second.Rule && p.First.State == p.Second.State && p.First.Priority == p.Second.Priority);

    private SiteAlarm ToSiteAlarm(SiteEntry site, AlarmEvent a, string chairName, DateTimeOffset now)
    {
        DateTimeOffset? since = a.Rule == OfflineRule ? null : site.Unacked.TryGetValue((a.Chair, a.Rule), out var s) ? s : null;
        return new SiteAlarm(site.Name, a.Chair, chairName, a.Rule, a.Sign, a.Priority, a.Kind, a.State, a.Value, a.Limit, a.Message, a.At,
            since, since is { } t && now - t >= unackedAfter);
    }

    private SiteView View(SiteEntry s, DateTimeOffset now)
    {
        var gatewayAlarms = OfflineAlarm(s) is { } offline ? [offline, .. s.GatewayAlarms] : new List<AlarmEvent>(s.GatewayAlarms);
        return new SiteView(
            s.Name,
            new GatewayView(s.State, s.Reason is null, s.Reason, s.LastHeard, s.Since, s.Version),
            [.. s.Chairs.Values.Select(c => ChairOf(s, c))],
            gatewayAlarms);
    }

    private static ChairView ChairOf(SiteEntry s, ChairEntry c) =>
        new(c.Id, c.Name, [], new Dictionary<Sign, LatestValue>(c.Values), [.. c.Alarms], c.StaleSigns);

    private sealed class SiteEntry(string name, DateTimeOffset now)
    {
        public string Name { get; } = name;

        public string State { get; set; } = "unknown";

        public string? Version { get; set; }

        public DateTimeOffset LastHeard { get; set; } = now;

        public DateTimeOffset? OfflineStatusAt { get; set; }

        public string? Reason { get; set; }

        public DateTimeOffset Since { get; set; } = now;

        public SortedDictionary<string, ChairEntry> Chairs { get; } = new(StringComparer.Ordinal);

        public List<AlarmEvent> GatewayAlarms { get; } = [];

        public Dictionary<(string Chair, string Rule), DateTimeOffset> Unacked { get; } = [];

        public int OverdueCount { get; set; }
    }

    private sealed class ChairEntry(string id)
    {
        public string Id { get; } = id;

        public string Name { get; set; } = id;

        public Dictionary<Sign, LatestValue> Values { get; set; } = [];

        public List<AlarmEvent> Alarms { get; set; } = [];

        /// <summary>As the site judged them (its stale limits); replaced whole by each state message, never changed in place.</summary>
        public IReadOnlyList<Sign> StaleSigns { get; set; } = [];
    }
}
