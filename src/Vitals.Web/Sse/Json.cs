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
    /// generated context) first, then from this project's. No reflection behind them: Native AOT has none, and the JIT
    /// build fails the same way (a type no context lists throws NotSupportedException) so tests find a missing type.
    /// </summary>
    public static JsonSerializerOptions Create(IJsonTypeInfoResolver? generated = null)
    {
        var options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = WebJsonContext.Default });
        if (generated is not null)
        {
            options.TypeInfoResolverChain.Insert(0, generated);
        }

        options.MakeReadOnly();
        return options;
    }

    /// <summary>
    /// Makes this project's generated metadata the HTTP layer's (<paramref name="options"/>): the reflection resolver
    /// ASP.NET adds under the JIT is removed, so the JIT build answers like the Native AOT one (which has none).
    /// </summary>
    public static JsonSerializerOptions UseGeneratedMetadata(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.TypeInfoResolverChain.Clear();
        options.TypeInfoResolverChain.Add(WebJsonContext.Default);
        return options;
    }

    // Metadata generated at build time for everything this project writes or reads (MQTT state and alarm messages, audit
    // entries, SSE, the sign-in and user API, engine state). The options still decide names, nulls and enums, so the
    // wire format is the one reflection wrote.
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
    [JsonSerializable(typeof(Dictionary<string, string[]>))]
    // The route and query parameter types and the stream's item, for the OpenAPI document's schemas (it asks the HTTP
    // options for each).
    [JsonSerializable(typeof(System.Net.ServerSentEvents.SseItem<string>))]
    [JsonSerializable(typeof(string))]
    [JsonSerializable(typeof(bool))]
    [JsonSerializable(typeof(int?))]
    [JsonSerializable(typeof(long?))]
    [JsonSerializable(typeof(double?))]
    [JsonSerializable(typeof(DateTimeOffset?))]
    private sealed partial class WebJsonContext : JsonSerializerContext;
}
