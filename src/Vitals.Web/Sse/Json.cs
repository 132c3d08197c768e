using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Storage;

namespace Vitals.Web;

/// <summary>The JSON shape of everything the gateway sends out (API, SSE): camelCase keys, enums as snake_case strings (<c>nibp_sys</c>, <c>high</c>).</summary>
public static partial class Json
{
    /// <summary>Shared serializer options.</summary>
    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>Applies the gateway's conventions to <paramref name="options"/>: the ones the event log is read back with (<see cref="StorageJson.Configure"/>).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options) => StorageJson.Configure(options);

    /// <summary>
    /// Options with the shared conventions whose type metadata comes from <paramref name="generated"/> (a host's own
    /// generated context) first, then from this project's, then from reflection for any type neither lists.
    /// </summary>
    public static JsonSerializerOptions Create(IJsonTypeInfoResolver? generated = null)
    {
        var options = UseGeneratedMetadata(Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() }));
        if (generated is not null)
        {
            options.TypeInfoResolverChain.Insert(0, generated);
        }

        return options;
    }

    /// <summary>Puts this project's generated metadata ahead of reflection in <paramref name="options"/> (the HTTP layer's).</summary>
    public static JsonSerializerOptions UseGeneratedMetadata(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.TypeInfoResolverChain.Insert(0, WebJsonContext.Default);
        return options;
    }

    // Metadata generated at build time for what is written on start-up and per message or request (MQTT state and alarm
    // messages, audit entries, SSE, the sign-in API, engine state): the reflection resolver builds it at run time with
    // reflection and emitted accessors, which the JIT compiles (~700 methods before the first message). The options still
    // decide names, nulls and enums, so the wire format is the one reflection wrote.
    [JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
    [JsonSerializable(typeof(AuditEntry))]
    [JsonSerializable(typeof(StreamClosed))]
    [JsonSerializable(typeof(MqttChairState))]
    [JsonSerializable(typeof(MqttAlarmMessage))]
    [JsonSerializable(typeof(MqttGatewayStatus))]
    [JsonSerializable(typeof(AlarmEvent))]
    [JsonSerializable(typeof(IReadOnlyList<AlarmEvent>))]
    [JsonSerializable(typeof(AlarmEngineSnapshot))]
    [JsonSerializable(typeof(ConfigChange))]
    [JsonSerializable(typeof(ChairView))]
    [JsonSerializable(typeof(List<ChairView>))]
    [JsonSerializable(typeof(AuthApi.LoginRequest))]
    [JsonSerializable(typeof(AuthApi.NewUserRequest))]
    [JsonSerializable(typeof(AuthApi.UpdateUserRequest))]
    [JsonSerializable(typeof(AuthApi.CsrfView))]
    [JsonSerializable(typeof(AuthApi.MeView))]
    [JsonSerializable(typeof(AuthApi.UserView))]
    [JsonSerializable(typeof(List<AuthApi.UserView>))]
    [JsonSerializable(typeof(List<ThrottleView>))]
    private sealed partial class WebJsonContext : JsonSerializerContext;
}
