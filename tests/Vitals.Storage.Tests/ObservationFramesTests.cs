using Vitals.Core;

namespace Vitals.Storage.Tests;

public sealed class ObservationFramesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    private static Observation Obs(Sign sign) =>
        new("north", "c1", "dev-1", sign, 70, T0, T0.AddMilliseconds(40), SourceProtocol.Hl7Mllp);

    public static TheoryData<string, Observation> Breakers => new()
    {
        { "site", Obs(Sign.Spo2) with { Site = "south" } },
        { "chair", Obs(Sign.Spo2) with { Chair = "c2" } },
        { "device", Obs(Sign.Spo2) with { Device = "dev-2" } },
        { "measured millisecond", Obs(Sign.Spo2) with { MeasuredAt = T0.AddMilliseconds(1) } },
        { "received millisecond", Obs(Sign.Spo2) with { ReceivedAt = T0.AddMilliseconds(41) } },
        { "source", Obs(Sign.Spo2) with { Source = SourceProtocol.Masimo } },
        { "repeated sign", Obs(Sign.Hr) with { Value = 71 } },
    };

    [Theory]
    [MemberData(nameof(Breakers))]
    public void FrameEnd_AnyKeyDiffersOrSignRepeats_StartsNewFrame(string differs, Observation next)
    {
        Observation[] run = [Obs(Sign.Hr), Obs(Sign.Pr), next, Obs(Sign.Rr)];
        Assert.True(ObservationFrames.FrameEnd(run, 0) == 2, differs);
    }

    [Fact]
    public void FrameEnd_SameKeyDistinctSigns_OneFrameEvenWithinTheMillisecond()
    {
        Observation[] run = [Obs(Sign.Hr), Obs(Sign.NibpSys) with { MeasuredAt = T0.AddTicks(5000), Quality = ObservationQuality.Questionable }, Obs(Sign.Temp)];
        Assert.Equal(3, ObservationFrames.FrameEnd(run, 0));
        Assert.Equal(3, ObservationFrames.FrameEnd(run, 1));
    }

    [Fact]
    public void Split_Run_CoversEveryObservationInOrder()
    {
        Observation[] run = [Obs(Sign.Hr), Obs(Sign.Spo2), Obs(Sign.Hr), Obs(Sign.Hr) with { Chair = "c2" }, Obs(Sign.Pr) with { Chair = "c2" }];
        var frames = ObservationFrames.Split(run).ToList();
        Assert.Equal([2, 1, 2], frames.Select(f => f.Count));
        Assert.Equal(run, frames.SelectMany(f => f));
    }
}
