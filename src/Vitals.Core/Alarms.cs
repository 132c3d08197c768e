namespace Vitals.Core;

/// <summary>IEC 60601-1-8 alarm priority.</summary>
public enum AlarmPriority
{
    Low = 1,
    Medium = 2,
    High = 3,
}

/// <summary>Whether an alarm is about the patient or about the equipment.</summary>
public enum AlarmKind
{
    Physiological,
    Technical,
}

/// <summary>A transition of an alarm condition. The names are part of the public schema.</summary>
public enum AlarmState
{
    Raised,
    Escalated,
    Acknowledged,
    Reannounced,
    Paused,
    Cleared,

    /// <summary>A high-priority physiological condition ended but the alarm stays until acknowledged.</summary>
    Latched,

    /// <summary>An audio pause ended (expired, cancelled, or broken through by a new condition).</summary>
    Resumed,
}

/// <summary>One alarm transition, as logged, streamed and published.</summary>
/// <param name="Site">Clinic site.</param>
/// <param name="Chair">Chair id.</param>
/// <param name="Rule">Stable rule id, for example <c>hr.low</c>.</param>
/// <param name="Sign">The sign concerned, if any (technical alarms may have none).</param>
/// <param name="Priority">Priority at this transition; null for audio pause events (<c>audio.pause</c>), which are not alarms.</param>
/// <param name="Kind">Physiological or technical.</param>
/// <param name="State">The transition.</param>
/// <param name="Value">The value that caused it, if any.</param>
/// <param name="Limit">The limit it was judged against, if any.</param>
/// <param name="Message">Text for the nurse.</param>
/// <param name="At">When the transition happened.</param>
/// <param name="User">Who caused it, for acknowledge and pause.</param>
public sealed record AlarmEvent(
    string Site,
    string Chair,
    string Rule,
    Sign? Sign,
    AlarmPriority? Priority,
    AlarmKind Kind,
    AlarmState State,
    double? Value,
    double? Limit,
    string Message,
    DateTimeOffset At,
    string? User = null);

/// <summary>
/// The seam between the pipeline and alarm logic. Implementations are pure and deterministic:
/// observations and clock ticks in, alarm events out. They are called from one thread at a time.
/// </summary>
public interface IAlarmEngine
{
    /// <summary>Judges one observation, appending any transitions to <paramref name="events"/>.</summary>
    void Observe(Observation observation, List<AlarmEvent> events);

    /// <summary>Advances time: condition delays, feed loss, escalation. Appends transitions to <paramref name="events"/>.</summary>
    void Tick(DateTimeOffset now, List<AlarmEvent> events);

    /// <summary>The alarms currently active (raised, escalated or acknowledged but not cleared).</summary>
    IReadOnlyList<AlarmEvent> Active { get; }
}
