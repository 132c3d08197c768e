using Vitals.Core;

namespace Vitals.Devices.Feeds;

/// <summary>
/// Tells a feed that acknowledges what it receives (HL7 <c>AA</c>) when readings it queued are durable, so a positive
/// acknowledgment means "committed to the store", never only "queued in memory" (a monitor never resends after AA).
/// Readings reach the store in the order they were queued, so the last reading of a message stands for all of it.
/// </summary>
public interface IReadingStore
{
    /// <summary>
    /// Starts watching <paramref name="last"/> (by reference): call it before queueing, so the commit cannot be missed.
    /// The task completes with true once that reading (and with it every reading queued before it) is committed, or
    /// with false when the store will not keep it (its memory hold was full while writes were failing: the reading was
    /// judged and shown, not recorded); it never faults.
    /// </summary>
    Task<bool> WhenStored(Observation last);

    /// <summary>Stops watching <paramref name="last"/>: it was not queued after all, or the feed stopped waiting.</summary>
    void Forget(Observation last);
}
