using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Api;
using Vitals.Gateway.Config;
using Vitals.Storage;

namespace Vitals.Gateway.Tests.Pipeline;

/// <summary>
/// The gateway's JSON metadata is generated at build time (GatewayJson, Json, StorageJson, CentralJson) and is the only
/// metadata there is (Native AOT has no reflection to build more). These pin that every payload comes from it, and that
/// it writes byte for byte what reflection wrote with the same conventions.
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
        new VitalsApi.SnapshotView("north", false, At, [], [new AlarmEvent("north", "", "mqtt.down", null, AlarmPriority.Low, AlarmKind.Technical, AlarmState.Raised, null, null, "MQTT down", At)], new Dictionary<Sign, double> { [Sign.NibpSys] = 600, [Sign.Hr] = 30 }),
        new StreamClosed("slow"),
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
    public void GatewayOptions_HaveNoReflectionFallback()
    {
        // A type no generated context lists fails under the JIT as it would in the native binary, so the JIT tests find it.
        Assert.DoesNotContain(GatewayJson.Options.TypeInfoResolverChain, r => r is DefaultJsonTypeInfoResolver);
        Assert.Throws<NotSupportedException>(() => JsonSerializer.Serialize(new Uri("http://example.invalid/"), GatewayJson.Options));
    }

    [Fact]
    public void ConfigDevices_WriteWhatReflectionWrote()
    {
        // The stored chair bindings (config table) and the admin view's pending check compare these bytes.
        var reflection = new JsonSerializerOptions(ConfigLoader.JsonOptions) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        var devices = ConfigLoader.Parse("""{ "chairs": [ { "id": "c1", "devices": [ { "id": "m1", "kind": "mqtt", "mapping": { "fields": [ { "field": "hr", "sign": "hr" } ] } }, { "id": "s1", "kind": "serial", "port": "/dev/ttyUSB0", "baud": 19200 } ] } ] }""", "test").Chairs[0].Devices;

        Assert.Equal(JsonSerializer.Serialize(devices, reflection), JsonSerializer.Serialize(devices, ConfigLoader.JsonOptions.TypeInfo<List<DeviceOptions>>()));
    }

    [Fact]
    public void DecodeLines_WriteWhatReflectionWrote()
    {
        var line = new DecodeCommand.DecodedObservation("hr", 72, "/min", "2026-12-05T10:30:15.25Z", "m1", "c1", "questionable");
        var reflection = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull, TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        using var output = new StringWriter();

        DecodeCommand.Print([new Observation("north", "c1", "m1", Sign.Hr, 72, At, At, SourceProtocol.Hl7Mllp, ObservationQuality.Questionable)], output);

        Assert.Equal(JsonSerializer.Serialize(line, reflection) + Environment.NewLine, output.ToString());
    }

    public static TheoryData<string, Type> GeneratedTypes()
    {
        var data = new TheoryData<string, Type>();
        foreach (var context in new[] { GatewayJson.Metadata, Vitals.Central.CentralJson.Metadata }.Concat(Json.Options.TypeInfoResolverChain.OfType<JsonSerializerContext>()))
        {
            // A generated context has one JsonTypeInfo<T> property per type it covers, the listed ones and all they reach.
            foreach (var property in context.GetType().GetProperties().Where(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(JsonTypeInfo<>)))
            {
                data.Add(context.GetType().Name, property.PropertyType.GetGenericArguments()[0]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GeneratedTypes))]
    public void EveryEnumInAGeneratedContext_IsWrittenAsSnakeCaseText(string context, Type type)
    {
        // Each enum needs its own JsonStringEnumConverter<T> in the options (StorageJson.Configure); one left out is
        // written as a number, silently.
        var enumType = Nullable.GetUnderlyingType(type) ?? type;
        if (!enumType.IsEnum)
        {
            return;
        }

        var first = Enum.GetValues(enumType).GetValue(0);
        foreach (var options in new[] { GatewayJson.Options, Vitals.Central.CentralJson.Options, Json.Options })
        {
            Assert.True(options.Converters.Any(c => c.CanConvert(enumType)), $"{context}: {enumType.Name} has no string converter");
            var withReflection = new JsonSerializerOptions(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
            Assert.StartsWith("\"", JsonSerializer.Serialize(first, enumType, withReflection), StringComparison.Ordinal);
        }
    }

    private static JsonSerializerOptions GeneratedOnly() => GatewayJson.Options;
}
