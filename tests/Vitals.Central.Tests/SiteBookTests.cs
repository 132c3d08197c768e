using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Vitals.Core;

namespace Vitals.Central.Tests;

public sealed class SiteBookTests
{
    private static readonly TimeSpan Silent = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Unacked = TimeSpan.FromSeconds(120);
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));
    private readonly SiteBook book = new("vitals", Silent, Unacked, maxPayload: 4096);

    public SiteBookTests() => book.SetBrokerConnected(true, time.GetUtcNow());

    private static byte[] Payload<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TestJson.Options);

    private BookChange? Apply<T>(string topic, T payload, bool retained = false) => book.Apply(topic, Payload(payload), retained, time.GetUtcNow());

    private MqttChairState State(string site, string chair, double hr, params MqttActiveAlarm[] alarms) => new(
        site, chair, $"Chair {chair}",
        new Dictionary<string, MqttValue> { ["hr"] = new(hr, "/min", time.GetUtcNow(), null), ["nibp_sys"] = new(118, "mm[Hg]", time.GetUtcNow(), null) },
        alarms);

    private MqttActiveAlarm Active(string rule, AlarmPriority priority, AlarmState state = AlarmState.Raised) =>
        new(rule, Sign.Hr, priority, AlarmKind.Physiological, state, 38, 40, time.GetUtcNow(), $"HR low: {rule}");

    private void Online(string site) => Apply($"vitals/{site}/gateway/status", new MqttGatewayStatus("online", site, "1.0", time.GetUtcNow()));

    [Fact]
    public void Apply_GatewayState_ShowsChairAsTheGatewayChairJson()
    {
        Online("north");
        Apply("vitals/north/c1/state", State("north", "c1", 72, Active("hr.low", AlarmPriority.High)));

        var site = Assert.Single(book.Sites(time.GetUtcNow()));
        Assert.Equal("north", site.Site);
        Assert.True(site.Gateway.Live);
        Assert.Equal("online", site.Gateway.State);
        var chair = Assert.Single(site.Chairs);
        Assert.Equal(("c1", "Chair c1"), (chair.Id, chair.Name));
        Assert.Equal(72, chair.Values[Sign.Hr].Value);
        Assert.Equal(118, chair.Values[Sign.NibpSys].Value);
        var alarm = Assert.Single(chair.Alarms);
        Assert.Equal(("north", "c1", "hr.low", AlarmPriority.High), (alarm.Site, alarm.Chair, alarm.Rule, alarm.Priority));

        // Serialized like the gateway's /api/chairs entries: the same record type, the same keys.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(chair, TestJson.Options));
        Assert.Equal(["id", "name", "feeds", "values", "alarms", "staleSigns"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(72, json.RootElement.GetProperty("values").GetProperty("hr").GetProperty("value").GetDouble());
    }

    [Fact]
    public void Apply_LastWillOffline_SiteNotLiveWithHighTechnicalAlarmNamingTheSite()
    {
        Online("north");
        Apply("vitals/north/c1/state", State("north", "c1", 72));
        Apply("vitals/north/gateway/status", new MqttGatewayStatus("offline", "north", "1.0", null));

        var site = book.Site("north", time.GetUtcNow())!;
        Assert.False(site.Gateway.Live);
        Assert.Equal("offline", site.Gateway.State);
        var alarm = Assert.Single(book.Alarms(time.GetUtcNow()));
        Assert.Equal((SiteBook.OfflineRule, AlarmPriority.High, AlarmKind.Technical, "north"), (alarm.Rule, alarm.Priority, alarm.Kind, alarm.Site));
        Assert.StartsWith("Site north gateway offline", alarm.Message, StringComparison.Ordinal);
        Assert.Contains(site.GatewayAlarms, a => a.Rule == SiteBook.OfflineRule);
    }

    [Fact]
    public void Tick_SiteSilentForTheLimit_GoesOfflineThenBackWithTraffic()
    {
        Online("north");
        Apply("vitals/north/c1/state", State("north", "c1", 72));

        time.Advance(Silent - TimeSpan.FromSeconds(1));
        Assert.Empty(book.Tick(time.GetUtcNow()));
        Assert.True(book.Site("north", time.GetUtcNow())!.Gateway.Live);

        time.Advance(TimeSpan.FromSeconds(1));
        var change = Assert.Single(book.Tick(time.GetUtcNow()));
        Assert.True(change.GatewayChanged);
        var gateway = book.Site("north", time.GetUtcNow())!.Gateway;
        Assert.False(gateway.Live);
        Assert.Contains("nothing received for 30 s", gateway.Reason, StringComparison.Ordinal);
        Assert.Contains(book.Alarms(time.GetUtcNow()), a => a.Rule == SiteBook.OfflineRule && a.Site == "north");

        time.Advance(TimeSpan.FromSeconds(5));
        Apply("vitals/north/c1/state", State("north", "c1", 73));
        Assert.True(book.Site("north", time.GetUtcNow())!.Gateway.Live);
        Assert.DoesNotContain(book.Alarms(time.GetUtcNow()), a => a.Rule == SiteBook.OfflineRule);
    }

    [Fact]
    public void Apply_RetainedCopies_DoNotCountAsHearingFromTheSite()
    {
        Apply("vitals/north/c1/state", State("north", "c1", 72), retained: true);
        time.Advance(Silent);
        Apply("vitals/north/c2/state", State("north", "c2", 80), retained: true);
        book.Tick(time.GetUtcNow());

        Assert.False(book.Site("north", time.GetUtcNow())!.Gateway.Live);
    }

    [Fact]
    public void Apply_LiveTrafficAfterAnOfflineStatus_SiteBackOnline()
    {
        // A cluster node may keep an old retained "offline" while the gateway's new "online" went to another node.
        Apply("vitals/north/gateway/status", new MqttGatewayStatus("offline", "north", "1.0", null), retained: true);
        Assert.False(book.Site("north", time.GetUtcNow())!.Gateway.Live);

        Apply("vitals/north/c1/state", State("north", "c1", 72), retained: true);
        Assert.False(book.Site("north", time.GetUtcNow())!.Gateway.Live);

        time.Advance(TimeSpan.FromSeconds(1));
        Apply("vitals/north/c1/state", State("north", "c1", 72));
        Assert.True(book.Site("north", time.GetUtcNow())!.Gateway.Live);
    }

    [Fact]
    public void SetBrokerConnected_Lost_EverySiteNotLiveUntilReconnected()
    {
        Online("north");
        Online("south");

        var changes = book.SetBrokerConnected(false, time.GetUtcNow());

        Assert.Equal(["north", "south"], changes.Select(c => c.Site));
        Assert.All(book.Sites(time.GetUtcNow()), s => Assert.False(s.Gateway.Live));
        Assert.All(book.Alarms(time.GetUtcNow()), a => Assert.Contains("central lost its broker connection", a.Message, StringComparison.Ordinal));
        Assert.Equal(2, book.Alarms(time.GetUtcNow()).Count);

        book.SetBrokerConnected(true, time.GetUtcNow());
        Assert.All(book.Sites(time.GetUtcNow()), s => Assert.True(s.Gateway.Live));
        Assert.Empty(book.Alarms(time.GetUtcNow()));
    }

    [Fact]
    public void Alarms_AcrossSites_HighestPriorityFirstWithSiteAndChairName()
    {
        Online("north");
        Online("south");
        Apply("vitals/north/c1/state", State("north", "c1", 72, Active("nibp.low", AlarmPriority.Medium)));
        time.Advance(TimeSpan.FromSeconds(1));
        Apply("vitals/south/c9/state", State("south", "c9", 35, Active("hr.low", AlarmPriority.High)));
        Apply("vitals/south/c2/state", State("south", "c2", 90, Active("spo2.low", AlarmPriority.Low)));

        var alarms = book.Alarms(time.GetUtcNow());

        Assert.Equal([("south", "Chair c9", AlarmPriority.High), ("north", "Chair c1", AlarmPriority.Medium), ("south", "Chair c2", AlarmPriority.Low)],
            alarms.Select(a => (a.Site, a.ChairName, a.Priority!.Value)));
    }

    [Fact]
    public void SiteAlarms_OneSite_ItsPartOfTheWholeListInTheSameOrder_OfflineAlarmIncluded()
    {
        Online("north");
        Online("south");
        Apply("vitals/north/c1/state", State("north", "c1", 72, Active("nibp.low", AlarmPriority.Medium)));
        time.Advance(TimeSpan.FromSeconds(1));
        Apply("vitals/south/c9/state", State("south", "c9", 35, Active("hr.low", AlarmPriority.High)));
        Apply("vitals/south/c2/state", State("south", "c2", 90, Active("spo2.low", AlarmPriority.Low), Active("hr.high", AlarmPriority.Medium)));
        Apply("vitals/north/gateway/status", new MqttGatewayStatus("offline", "north", "1.0", null));
        var now = time.GetUtcNow();

        foreach (var site in (string[])["north", "south"])
        {
            Assert.Equal(book.Alarms(now).Where(a => a.Site == site), book.SiteAlarms(site, now));
        }

        Assert.Equal([SiteBook.OfflineRule, "nibp.low"], book.SiteAlarms("north", now).Select(a => a.Rule));
        Assert.Equal(["hr.low", "hr.high", "spo2.low"], book.SiteAlarms("south", now).Select(a => a.Rule));
        Assert.Empty(book.SiteAlarms("west", now));
    }

    [Fact]
    public void Apply_AlarmTopic_RaisesAndClearsAtOnceWithoutWaitingForState()
    {
        Online("north");
        var raised = new MqttAlarmMessage("north", "c1", "hr.low", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Raised, 38, 40, time.GetUtcNow(), "HR low", null);

        var change = Apply("vitals/north/c1/alarm", raised);

        Assert.True(change!.AlarmsChanged);
        Assert.Equal("hr.low", Assert.Single(book.Chair("north", "c1")!.Alarms).Rule);
        Apply("vitals/north/c1/alarm", raised with { State = AlarmState.Cleared });
        Assert.Empty(book.Chair("north", "c1")!.Alarms);
        Assert.Empty(book.Alarms(time.GetUtcNow()));
    }

    [Fact]
    public void Apply_GatewayFaultAlarm_ListedAsTheSiteGatewaysAlarm()
    {
        Online("north");
        Apply("vitals/north/gateway/alarm", new MqttAlarmMessage(
            "north", "gateway", "gateway.store", null, AlarmPriority.Medium, AlarmKind.Technical, AlarmState.Raised, null, null, time.GetUtcNow(), "Store failing", null));

        var site = book.Site("north", time.GetUtcNow())!;
        Assert.Empty(site.Chairs);
        Assert.Equal("gateway.store", Assert.Single(site.GatewayAlarms).Rule);
        Assert.Equal(("gateway", "Gateway"), (book.Alarms(time.GetUtcNow())[0].Chair, book.Alarms(time.GetUtcNow())[0].ChairName));
    }

    [Fact]
    public void Tick_AlarmUnacknowledgedBeyondLimit_OverdueUntilAcknowledged()
    {
        Online("north");
        Apply("vitals/north/c1/state", State("north", "c1", 35, Active("hr.low", AlarmPriority.High)));

        time.Advance(Unacked - TimeSpan.FromSeconds(1));
        Apply("vitals/north/c1/state", State("north", "c1", 34, Active("hr.low", AlarmPriority.High, AlarmState.Escalated) with { Time = time.GetUtcNow() }));
        Assert.Empty(book.Tick(time.GetUtcNow()));
        Assert.False(Assert.Single(book.Alarms(time.GetUtcNow())).Overdue);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains(book.Tick(time.GetUtcNow()), c => c.AlarmsChanged);
        var overdue = Assert.Single(book.Alarms(time.GetUtcNow()));
        Assert.True(overdue.Overdue);
        Assert.Equal(time.GetUtcNow() - Unacked, overdue.UnackedSince);

        Apply("vitals/north/c1/state", State("north", "c1", 34, Active("hr.low", AlarmPriority.High, AlarmState.Acknowledged)));
        var acknowledged = Assert.Single(book.Alarms(time.GetUtcNow()));
        Assert.False(acknowledged.Overdue);
        Assert.Null(acknowledged.UnackedSince);
    }

    [Fact]
    public void Apply_SiteClockAhead_UnackedTimeCountsFromWhenCentralSawIt()
    {
        Online("north");
        var ahead = Active("hr.low", AlarmPriority.High) with { Time = time.GetUtcNow().AddHours(1) };
        Apply("vitals/north/c1/state", State("north", "c1", 35, ahead));

        time.Advance(Unacked);
        Apply("vitals/north/c1/state", State("north", "c1", 35, ahead));
        book.Tick(time.GetUtcNow());

        Assert.True(Assert.Single(book.Alarms(time.GetUtcNow())).Overdue);
    }

    public static TheoryData<string, string> BadMessages => new()
    {
        { "vitals/north/c1/state", "not json" },
        { "vitals/north/c1/state", "null" },
        { "vitals/north/c1/state", "[1,2,3]" },
        { "vitals/north/c1/state", """{"site":"north","chair":"c1","name":"x","values":{"hr":{"value":"high"}},"alarms":[]}""" },
        { "vitals/north/c1/state", """{"site":"north","chair":"c1","name":"x"}""" },
        { "vitals/north/c1/alarm", """{"rule":"hr.low","priority":"extreme","kind":"physiological","state":"raised","time":"2026-12-05T08:00:00Z","message":"x"}""" },
        { "vitals/north/c1/alarm", """{"priority":"high"}""" },
        { "vitals/north/gateway/status", """{"state":"sleeping","site":"north"}""" },
        { "vitals/north/gateway/state", """{"site":"north","chair":"gateway","name":"x","values":{},"alarms":[]}""" },
        { "vitals/north/c1/state", "{\"site\":\"north\",\"chair\":\"c1\",\u0000}" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void Apply_MalformedPayload_CountedAndSkippedNeverThrows(string topic, string payload)
    {
        var change = book.Apply(topic, Encoding.UTF8.GetBytes(payload), false, time.GetUtcNow());

        Assert.Null(change);
        var counters = book.Counters();
        Assert.Equal((1, 1, 0), (counters.Received, counters.Malformed, counters.Oversized));
        Assert.StartsWith(topic, counters.LastBad, StringComparison.Ordinal);
        Assert.Empty(book.Sites(time.GetUtcNow()).SelectMany(s => s.Chairs));
    }

    [Fact]
    public void Apply_OversizedPayload_CountedAndSkippedUnread()
    {
        var change = book.Apply("vitals/north/c1/state", new byte[5000], false, time.GetUtcNow());

        Assert.Null(change);
        Assert.Equal((1, 0, 1), (book.Counters().Received, book.Counters().Malformed, book.Counters().Oversized));
        Assert.Contains("5000 bytes", book.Counters().LastBad, StringComparison.Ordinal);
        Assert.Empty(book.Sites(time.GetUtcNow()));
    }

    [Theory]
    [InlineData("other/north/c1/state")]
    [InlineData("vitals/north/c1/obs")]
    [InlineData("vitals/north/c1/extra/state")]
    [InlineData("vitals//c1/state")]
    public void Apply_TopicCentralDoesNotRead_CountedAsOther(string topic)
    {
        Assert.Null(book.Apply(topic, "{}"u8, false, time.GetUtcNow()));
        Assert.Equal(1, book.Counters().OtherTopics);
        Assert.Empty(book.Sites(time.GetUtcNow()));
    }
}
