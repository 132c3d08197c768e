namespace Vitals.Mqtt.Tests;

public class MqttTopicTests
{
    // Examples from MQTT 3.1.1 section 4.7 plus the $-topic rule [MQTT-4.7.2-1].
    [Theory]
    [InlineData("sport/tennis/player1/#", "sport/tennis/player1", true)]
    [InlineData("sport/tennis/player1/#", "sport/tennis/player1/ranking", true)]
    [InlineData("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true)]
    [InlineData("sport/#", "sport", true)]
    [InlineData("#", "sport/tennis", true)]
    [InlineData("#", "/", true)]
    [InlineData("sport/tennis/+", "sport/tennis/player1", true)]
    [InlineData("sport/tennis/+", "sport/tennis/player1/ranking", false)]
    [InlineData("sport/+", "sport", false)]
    [InlineData("sport/+", "sport/", true)]
    [InlineData("+/+", "/finance", true)]
    [InlineData("/+", "/finance", true)]
    [InlineData("+", "/finance", false)]
    [InlineData("+/tennis/#", "sport/tennis/player1", true)]
    [InlineData("vitals/+/+/obs", "vitals/clinic1/chair3/obs", true)]
    [InlineData("vitals/+/+/obs", "vitals/clinic1/chair3/alarm", false)]
    [InlineData("vitals/+/+/obs", "vitals/clinic1/obs", false)]
    [InlineData("a/b", "a/b", true)]
    [InlineData("a/b", "a/B", false)]
    [InlineData("a/b", "a/b/c", false)]
    [InlineData("a/b/c", "a/b", false)]
    [InlineData("#", "$SYS/broker/uptime", false)]
    [InlineData("+/monitor/Clients", "$SYS/monitor/Clients", false)]
    [InlineData("$SYS/#", "$SYS/monitor/Clients", true)]
    [InlineData("$SYS/monitor/+", "$SYS/monitor/Clients", true)]
    public void Matches_FilterAndTopic_FollowsSpecTable(string filter, string topic, bool expected)
    {
        MqttTopic.ValidateTopicFilter(filter);
        MqttTopic.ValidateTopicName(topic);

        Assert.Equal(expected, MqttTopic.Matches(filter, topic));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sport/tennis#")]
    [InlineData("sport/tennis/#/ranking")]
    [InlineData("sport+")]
    [InlineData("sport/+tennis")]
    [InlineData("a\0b")]
    public void ValidateTopicFilter_InvalidFilter_Throws(string filter)
    {
        Assert.Throws<MqttProtocolException>(() => MqttTopic.ValidateTopicFilter(filter));
    }

    [Theory]
    [InlineData("#")]
    [InlineData("+")]
    [InlineData("+/+/#")]
    [InlineData("/")]
    [InlineData("vitals/site/chair/obs")]
    public void ValidateTopicFilter_ValidFilter_DoesNotThrow(string filter)
    {
        MqttTopic.ValidateTopicFilter(filter);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/+")]
    [InlineData("a/#")]
    [InlineData("a\0")]
    public void ValidateTopicName_InvalidName_Throws(string topic)
    {
        Assert.Throws<MqttProtocolException>(() => MqttTopic.ValidateTopicName(topic));
    }
}
