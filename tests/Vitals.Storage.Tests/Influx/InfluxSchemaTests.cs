using System.Text;
using Vitals.Core;
using Vitals.Storage.Influx;

namespace Vitals.Storage.Tests.Influx;

public sealed class InfluxSchemaTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
    private static readonly long Ms = T0.ToUnixTimeMilliseconds();

    internal static Observation Obs(Sign sign, double value, DateTimeOffset at, string chair = "c1", string device = "dev1", ObservationQuality quality = ObservationQuality.Ok) =>
        new("north", chair, device, sign, value, at, at, SourceProtocol.Simulator, quality);

    private static string Lines(Func<LineProtocolWriter, int> write, out int count)
    {
        using var writer = new LineProtocolWriter(256);
        count = write(writer);
        return Encoding.UTF8.GetString(writer.Written.Span);
    }

    [Fact]
    public void WriteObservations_SameChairDeviceAndTime_OnePointWithShortNames()
    {
        var text = Lines(w => InfluxSchema.WriteObservations(w,
        [
            Obs(Sign.Hr, 72, T0), Obs(Sign.Spo2, 98, T0), Obs(Sign.NibpSys, 120, T0), Obs(Sign.NibpDia, 80, T0),
            Obs(Sign.NibpMap, 93.3, T0), Obs(Sign.Pr, 71, T0), Obs(Sign.Rr, 14, T0), Obs(Sign.Temp, 36.6, T0),
        ]), out var count);
        Assert.Equal(1, count);
        Assert.Equal($"vitals,chair=c1,device=dev1,site=north hr=72,pr=71,spo2=98,nibp_sys=120,nibp_dia=80,nibp_map=93.3,rr=14,temp=36.6 {Ms}\n", text);
    }

    [Fact]
    public void WriteObservations_DifferentTimeChairOrDevice_SeparatePoints()
    {
        var text = Lines(w => InfluxSchema.WriteObservations(w,
        [
            Obs(Sign.Hr, 72, T0), Obs(Sign.Hr, 73, T0.AddMilliseconds(1)), Obs(Sign.Hr, 74, T0.AddMilliseconds(1), chair: "c2"),
            Obs(Sign.Hr, 75, T0.AddMilliseconds(1), chair: "c2", device: "dev2"),
        ]), out var count);
        Assert.Equal(4, count);
        Assert.Equal(
            $"vitals,chair=c1,device=dev1,site=north hr=72 {Ms}\n" +
            $"vitals,chair=c1,device=dev1,site=north hr=73 {Ms + 1}\n" +
            $"vitals,chair=c2,device=dev1,site=north hr=74 {Ms + 1}\n" +
            $"vitals,chair=c2,device=dev2,site=north hr=75 {Ms + 1}\n",
            text);
    }

    [Fact]
    public void WriteObservations_SubMillisecondDifference_SamePoint()
    {
        var text = Lines(w => InfluxSchema.WriteObservations(w, [Obs(Sign.Hr, 72, T0), Obs(Sign.Spo2, 97, T0.AddTicks(3000))]), out var count);
        Assert.Equal(1, count);
        Assert.Equal($"vitals,chair=c1,device=dev1,site=north hr=72,spo2=97 {Ms}\n", text);
    }

    [Fact]
    public void WriteObservations_RepeatedSign_LastValueWins()
    {
        var text = Lines(w => InfluxSchema.WriteObservations(w, [Obs(Sign.Hr, 72, T0), Obs(Sign.Hr, 80, T0)]), out _);
        Assert.Equal($"vitals,chair=c1,device=dev1,site=north hr=80 {Ms}\n", text);
    }

    [Fact]
    public void WriteObservations_InvalidQualityOrNaN_NotWritten()
    {
        var text = Lines(w => InfluxSchema.WriteObservations(w,
        [
            Obs(Sign.Hr, 0, T0, quality: ObservationQuality.Invalid), Obs(Sign.Spo2, double.NaN, T0.AddSeconds(1)),
            Obs(Sign.Pr, 60, T0.AddSeconds(2), quality: ObservationQuality.Questionable | ObservationQuality.Simulated),
        ]), out var count);
        Assert.Equal(1, count);
        Assert.Equal($"vitals,chair=c1,device=dev1,site=north pr=60 {Ms + 2000}\n", text);
    }

    [Fact]
    public void WriteAlarm_FullEvent_TagsAndFieldsPerDesign()
    {
        var alarm = new AlarmEvent("north", "c1", "hr.low", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Acknowledged, 38, 40, "HR low 38 < 40", T0, "nurse \"ann\"");
        var text = Lines(w => InfluxSchema.WriteAlarm(w, alarm), out _);
        Assert.Equal($"alarms,chair=c1,kind=physiological,priority=high,rule=hr.low,site=north state=\"acknowledged\",value=38,limit=40,message=\"HR low 38 < 40\",user=\"nurse \\\"ann\\\"\" {Ms}\n", text);
    }

    [Fact]
    public void WriteAlarm_TechnicalWithoutValue_OmitsMissingFields()
    {
        var alarm = new AlarmEvent("north", "c1", "feed.lost", null, AlarmPriority.Medium, AlarmKind.Technical, AlarmState.Raised, null, null, "Feed lost", T0);
        var text = Lines(w => InfluxSchema.WriteAlarm(w, alarm), out _);
        Assert.Equal($"alarms,chair=c1,kind=technical,priority=medium,rule=feed.lost,site=north state=\"raised\",message=\"Feed lost\" {Ms}\n", text);
    }

    [Fact]
    public void WriteAlarm_PauseEventWithoutPriority_OmitsThePriorityTag()
    {
        var pause = new AlarmEvent("north", "c1", "audio.pause", null, null, AlarmKind.Technical, AlarmState.Resumed, null, 120, "Audio resumed", T0, "ann");
        var text = Lines(w => InfluxSchema.WriteAlarm(w, pause), out _);
        Assert.Equal($"alarms,chair=c1,kind=technical,rule=audio.pause,site=north state=\"resumed\",limit=120,message=\"Audio resumed\",user=\"ann\" {Ms}\n", text);
    }

    [Fact]
    public void WriteFeedStatus_Snapshot_BoolAndFloatCounters()
    {
        var text = Lines(w => InfluxSchema.WriteFeedStatus(w, new FeedStatusSample("north", "c1", "dev1", true, 1200, 3, T0)), out _);
        Assert.Equal($"feed_status,chair=c1,device=dev1,site=north connected=true,frames_ok=1200,frames_bad=3 {Ms}\n", text);
    }

    [Fact]
    public void WriteRecords_MixedKinds_KeepsOrderAndGroupsObservations()
    {
        var alarm = new AlarmEvent("north", "c1", "hr.low", Sign.Hr, AlarmPriority.Low, AlarmKind.Physiological, AlarmState.Cleared, 50, 40, "ok", T0);
        var text = Lines(w => InfluxSchema.WriteRecords(w,
        [
            OutboxRecord.Of(1, Obs(Sign.Hr, 72, T0)), OutboxRecord.Of(2, Obs(Sign.Spo2, 99, T0)),
            OutboxRecord.Of(3, alarm), OutboxRecord.Of(4, new FeedStatusSample("north", "c1", "dev1", false, 0, 0, T0)),
        ]), out var count);
        Assert.Equal(3, count);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("vitals,", lines[0], StringComparison.Ordinal);
        Assert.Contains("hr=72,spo2=99", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("alarms,", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("feed_status,", lines[2], StringComparison.Ordinal);
    }
}
