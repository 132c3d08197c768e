namespace Vitals.Core.Tests;

public class DeviceClockPolicyTests
{
    private static readonly DateTimeOffset Received = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, DateTimeOffset, DeviceClockVerdict> Times() => new()
    {
        { "on time", Received, DeviceClockVerdict.Plausible },
        { "29 s ahead", Received.AddSeconds(29), DeviceClockVerdict.Plausible },
        { "31 s ahead", Received.AddSeconds(31), DeviceClockVerdict.Ahead },
        { "HL7 OBX-14 99991231235959", new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero), DeviceClockVerdict.Ahead },
        { "MQTT 2999-01-01", new DateTimeOffset(2999, 1, 1, 0, 0, 0, TimeSpan.Zero), DeviceClockVerdict.Ahead },
        { "NIBP held 23 h", Received.AddHours(-23), DeviceClockVerdict.Plausible },
        { "25 h old", Received.AddHours(-25), DeviceClockVerdict.Behind },
        { "reset RTC 2000-01-01", new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), DeviceClockVerdict.Behind },
        { "year 1", DateTimeOffset.MinValue, DeviceClockVerdict.Behind },
    };

    [Theory]
    [MemberData(nameof(Times))]
    public void Admit_DefaultPolicy_WrongTimesRestampedWithReceiveTimeAndQuestionable(string name, DateTimeOffset measured, DeviceClockVerdict expected)
    {
        var reading = new Observation("s", "c1", "mon-1", Sign.Hr, 72, measured, Received, SourceProtocol.Hl7Mllp, ObservationQuality.Simulated);

        var admitted = DeviceClockPolicy.Default.Admit(reading, out var verdict);

        Assert.Equal(expected, verdict);
        if (expected == DeviceClockVerdict.Plausible)
        {
            Assert.Same(reading, admitted);
        }
        else
        {
            Assert.Equal(reading with { MeasuredAt = Received, Quality = ObservationQuality.Simulated | ObservationQuality.Questionable }, admitted);
        }

        Assert.False(string.IsNullOrEmpty(name));
    }

    [Fact]
    public void Judge_ConfiguredLimits_Used()
    {
        var policy = new DeviceClockPolicy(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));

        Assert.Equal(DeviceClockVerdict.Ahead, policy.Judge(Received.AddSeconds(6), Received));
        Assert.Equal(DeviceClockVerdict.Plausible, policy.Judge(Received.AddMinutes(-9), Received));
        Assert.Equal(DeviceClockVerdict.Behind, policy.Judge(Received.AddMinutes(-11), Received));
    }
}
