using Vitals.Storage.Influx;

namespace Vitals.Storage.Tests.Influx;

public sealed class PartialWriteAnalyzerTests
{
    // Error texts below were produced by influxd 1.6.7 on this machine.
    [Fact]
    public void Analyze_ParseErrors_FindsQuotedLines()
    {
        string[] lines = ["vitals,chair=1 hr=72 1700000000000", "bad line here", "vitals,chair=2 hr=70 1700000000002", "foo,a=b c=1 17x"];
        var result = PartialWriteAnalyzer.Analyze(
            "partial write: unable to parse 'bad line here': invalid field format\nunable to parse 'foo,a=b c=1 17x': bad timestamp dropped=0", lines);
        Assert.True(result.Complete);
        Assert.Equal([1, 3], result.BadLines);
    }

    [Fact]
    public void Analyze_QuotedLineContainsQuoteColon_StillFound()
    {
        string[] lines = ["m s=\"it': x\" 1", "m f=1 2"];
        var result = PartialWriteAnalyzer.Analyze("partial write: unable to parse 'm s=\"it': x\" 1': whatever dropped=0", lines);
        Assert.True(result.Complete);
        Assert.Equal([0], result.BadLines);
    }

    [Fact]
    public void Analyze_TypeConflict_FindsLinesWithConflictingType()
    {
        string[] lines = ["alarms,chair=c1 state=\"raised\",value=38 1", "vitals,chair=c1 value=5 1", "alarms,chair=c1 state=\"cleared\" 2", "alarms,chair=c2 value=40,message=\"x\" 3"];
        var result = PartialWriteAnalyzer.Analyze(
            "partial write: field type conflict: input field \"value\" on measurement \"alarms\" is type float, already exists as type string dropped=2", lines);
        Assert.True(result.Complete);
        Assert.Equal([0, 3], result.BadLines);
    }

    [Fact]
    public void Analyze_DroppedMoreThanIdentified_Incomplete()
    {
        string[] lines = ["alarms value=1 1", "alarms limit=2 2"];
        var result = PartialWriteAnalyzer.Analyze(
            "partial write: field type conflict: input field \"value\" on measurement \"alarms\" is type float, already exists as type string dropped=2", lines);
        Assert.False(result.Complete);
        Assert.Equal([0], result.BadLines);
    }

    [Fact]
    public void Analyze_UnknownMessage_Incomplete()
    {
        var result = PartialWriteAnalyzer.Analyze("partial write: points beyond retention policy dropped=1", ["m f=1 1"]);
        Assert.False(result.Complete);
    }
}
