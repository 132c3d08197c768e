using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Api;
using Vitals.Gateway.Config;

namespace Vitals.Gateway.Tests.Pipeline;

/// <summary>
/// The gateway's JSON metadata is generated at build time (GatewayJson, Json, StorageJson) instead of built with
/// reflection at start. These pin that what is written on start-up and per message still comes from the generated
/// metadata, and that it writes byte for byte what reflection wrote with the same conventions.
/// </summary>
public sealed class GeneratedJsonTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 5, 10, 30, 15, 250, TimeSpan.Zero);

    // Same conventions, metadata from reflection only: what the gateway wrote before the generated contexts.
    private static readonly JsonSerializerOptions Reflection = Json.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() });

    public static TheoryData<object> Payloads() => new()
    {
        new MqttChairState("north", "c1", "Chair 1", new Dictionary<string, MqttValue> { ["hr"] = new(72.5, "/min", At, null), ["spo2"] = new(91, "%", At, ObservationQuality.Questionable) }, [new MqttActiveAlarm("hr.high", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Raised, 131, 120, At, "HR high")], ["temp"]),
        new MqttAlarmMessage("north", "c1", "audio.pause", null, null, AlarmKind.Technical, AlarmState.Cleared, null, null, At, "Audio paused", "nurse1"),
        new MqttGatewayStatus("offline", "north", null, null),
        new AlarmEvent("north", "c1", "nibp_sys.low", Sign.NibpSys, AlarmPriority.Medium, AlarmKind.Physiological, AlarmState.Escalated, 85, 90, "NIBP low", At),
        new AuditEntry("alarm.config", "admin", null, "hr.high 120 -> 125", At),
        new ConfigChange(7, "admin", At, ConfigScope.Chair, "c1", "hr.high", null, "125"),
        new SavedChair(new ChairSnapshot("north", "c1", null, null, At.AddMinutes(2), [], At.AddMinutes(-5), ["magnesium"]), []),
        new AlarmEngineSnapshot([], [], null),
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void GeneratedMetadata_WritesWhatReflectionWrote(object payload)
    {
        var type = payload.GetType();
        var generated = JsonSerializer.Serialize(payload, type, GeneratedOnly());

        Assert.Equal(JsonSerializer.Serialize(payload, type, Reflection), generated);
        Assert.Equal(generated, JsonSerializer.Serialize(JsonSerializer.Deserialize(generated, type, GeneratedOnly()), type, Reflection));
    }

    [Theory]
    [InlineData(typeof(GatewayOptions))]
    [InlineData(typeof(List<DeviceOptions>))]
    [InlineData(typeof(SavedChair))]
    [InlineData(typeof(AlarmEngineSnapshot))]
    [InlineData(typeof(MqttChairState))]
    [InlineData(typeof(MqttAlarmMessage))]
    [InlineData(typeof(MqttGatewayStatus))]
    [InlineData(typeof(AlarmEvent))]
    [InlineData(typeof(AuditEntry))]
    [InlineData(typeof(VitalsApi.StatusView))]
    [InlineData(typeof(NurseApi.ChairStatusView))]
    public void StartupAndPerMessagePayloads_HaveGeneratedMetadata(Type type)
    {
        // Without the reflection fallback, a type no generated context lists has no metadata at all.
        Assert.NotNull(GeneratedOnly().GetTypeInfo(type));
    }

    [Fact]
    public void GatewayOptions_UseGeneratedMetadataThenReflection()
    {
        var chain = GatewayJson.Options.TypeInfoResolverChain;

        Assert.Same(GatewayJson.Metadata, chain[0]);
        Assert.IsType<DefaultJsonTypeInfoResolver>(chain[^1]);
    }

    private static JsonSerializerOptions GeneratedOnly()
    {
        var options = Json.Create(GatewayJson.Metadata);
        options.TypeInfoResolverChain.RemoveAt(options.TypeInfoResolverChain.Count - 1);
        return options;
    }
}
