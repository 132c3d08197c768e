namespace Vitals.Core.Alarms;

/// <summary>
/// One alarm occurrence that has not been cleared: its priority, whether its condition still holds (false means
/// latched) and whether it is acknowledged. Immutable; serializes with System.Text.Json for restart recovery.
/// </summary>
/// <param name="Site">Clinic site.</param>
/// <param name="Chair">Chair id (<see cref="AlarmEngine.GatewayChair"/> for gateway-wide technical alarms).</param>
/// <param name="Rule">Rule id, for example <c>nibp_sys.drop</c>.</param>
/// <param name="Sign">The sign concerned, if any.</param>
/// <param name="Kind">Physiological or technical.</param>
/// <param name="Priority">Current priority (never lowered during an occurrence).</param>
/// <param name="State">Last transition.</param>
/// <param name="ConditionActive">False once the condition ended while the alarm latches awaiting acknowledgement.</param>
/// <param name="Acknowledged">True while silenced by an acknowledgement.</param>
/// <param name="RaisedAt">When the occurrence was raised.</param>
/// <param name="AnnouncedAt">When it was last announced (raised, escalated or re-announced); the escalation timer runs from here.</param>
/// <param name="ChangedAt">When its last transition happened.</param>
/// <param name="AcknowledgedAt">When it was last acknowledged.</param>
/// <param name="AcknowledgedBy">Who acknowledged it.</param>
/// <param name="Value">Latest value judged.</param>
/// <param name="Limit">Limit it was judged against.</param>
/// <param name="Message">Text for the nurse.</param>
public sealed record ActiveAlarm(
    string Site,
    string Chair,
    string Rule,
    Sign? Sign,
    AlarmKind Kind,
    AlarmPriority Priority,
    AlarmState State,
    bool ConditionActive,
    bool Acknowledged,
    DateTimeOffset RaisedAt,
    DateTimeOffset AnnouncedAt,
    DateTimeOffset ChangedAt,
    DateTimeOffset? AcknowledgedAt,
    string? AcknowledgedBy,
    double? Value,
    double? Limit,
    string Message)
{
    /// <summary>True for a high-priority physiological alarm whose condition ended but which awaits acknowledgement.</summary>
    public bool Latched => !ConditionActive;

    /// <summary>The chair this alarm belongs to, across sites.</summary>
    internal ChairKey Key => new(Site, Chair);

    /// <summary>The event describing transition <paramref name="state"/> of this alarm.</summary>
    public AlarmEvent ToEvent(AlarmState state, DateTimeOffset at, string? user = null, string? message = null) =>
        new(Site, Chair, Rule, Sign, Priority, Kind, state, Value, Limit, message ?? Message, at, user);
}

/// <summary>A nursing check and when it is next due.</summary>
/// <param name="CheckId">Check id from the profile.</param>
/// <param name="DueAt">When it is next prompted.</param>
public sealed record CheckDue(string CheckId, DateTimeOffset DueAt);

/// <summary>Per-chair engine state that must survive a restart.</summary>
/// <param name="Site">Clinic site.</param>
/// <param name="Chair">Chair id.</param>
/// <param name="Session">Running infusion session, if any.</param>
/// <param name="Baseline">Confirmed baseline, if any.</param>
/// <param name="PausedUntil">End of this chair's audio pause, if paused.</param>
/// <param name="ChecksDue">Nursing checks and when they are due.</param>
/// <param name="LastNibpAt">Last NIBP reading, for the overdue rule.</param>
/// <param name="MagnesiumWarnings">Current magnesium rate warnings.</param>
public sealed record ChairSnapshot(
    string Site,
    string Chair,
    InfusionSession? Session,
    Baseline? Baseline,
    DateTimeOffset? PausedUntil,
    IReadOnlyList<CheckDue> ChecksDue,
    DateTimeOffset? LastNibpAt,
    IReadOnlyList<string> MagnesiumWarnings);

/// <summary>Everything the engine needs to resume after a restart: alarms (active, latched, acknowledged), sessions, baselines, pauses.</summary>
/// <param name="Alarms">Uncleared alarms.</param>
/// <param name="Chairs">Per-chair state.</param>
/// <param name="AllPausedUntil">End of an all-chairs audio pause, if any.</param>
/// <param name="FormatVersion">Snapshot format version.</param>
public sealed record AlarmEngineSnapshot(
    IReadOnlyList<ActiveAlarm> Alarms,
    IReadOnlyList<ChairSnapshot> Chairs,
    DateTimeOffset? AllPausedUntil,
    int FormatVersion = AlarmEngineSnapshot.CurrentFormat)
{
    /// <summary>The format this build writes: 2 leaves readings out (format 1 had them; it is still read).</summary>
    public const int CurrentFormat = 2;
}

/// <summary>One chair's alarm picture for the dashboard.</summary>
/// <param name="Chair">Chair id.</param>
/// <param name="Alarms">Uncleared alarms at the chair, ordered by rule.</param>
/// <param name="PauseRemaining">Audio pause countdown (zero when not paused).</param>
/// <param name="Baseline">Baseline status, saying why baseline rules are inactive.</param>
/// <param name="ChecksDue">Nursing checks and when they are due.</param>
/// <param name="Session">Running infusion session, if any.</param>
/// <param name="MagnesiumWarnings">Current magnesium rate warnings.</param>
public sealed record ChairAlarmStatus(
    string Chair,
    IReadOnlyList<ActiveAlarm> Alarms,
    TimeSpan PauseRemaining,
    BaselineStatus Baseline,
    IReadOnlyList<CheckDue> ChecksDue,
    InfusionSession? Session,
    IReadOnlyList<string> MagnesiumWarnings);
