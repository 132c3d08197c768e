namespace Vitals.Storage.Influx;

/// <summary>A snapshot of one feed's health, stored as the <c>feed_status</c> measurement.</summary>
/// <param name="Site">Clinic site.</param>
/// <param name="Chair">Chair the feed is bound to.</param>
/// <param name="Device">Device id.</param>
/// <param name="Connected">Whether the transport is connected.</param>
/// <param name="FramesOk">Frames decoded since the feed started.</param>
/// <param name="FramesBad">Frames that failed to decode since the feed started.</param>
/// <param name="At">When the snapshot was taken (gateway clock).</param>
public sealed record FeedStatusSample(
    string Site,
    string Chair,
    string Device,
    bool Connected,
    long FramesOk,
    long FramesBad,
    DateTimeOffset At);
