using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vitals.Central;

/// <summary>
/// Central's JSON: <see cref="Json"/>'s conventions, with the metadata of central's own API views and stream events
/// generated at build time (the Native AOT build has no reflection to build it at run time).
/// </summary>
public static partial class CentralJson
{
    /// <summary>Serializer options for central's payloads (and, through <see cref="Json"/>, the shared ones).</summary>
    public static readonly JsonSerializerOptions Options = Json.Create(CentralJsonContext.Default);

    /// <summary>The generated metadata, for the HTTP layer's options.</summary>
    public static JsonSerializerContext Metadata => CentralJsonContext.Default;

    [JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
    [JsonSerializable(typeof(CentralApi.CentralInfo))]
    [JsonSerializable(typeof(CentralApi.CentralSnapshot))]
    [JsonSerializable(typeof(CentralApi.CentralStatus))]
    [JsonSerializable(typeof(SiteView))]
    [JsonSerializable(typeof(List<SiteView>))]
    [JsonSerializable(typeof(List<SiteAlarm>))]
    [JsonSerializable(typeof(TrendView))]
    [JsonSerializable(typeof(Heartbeat))]
    [JsonSerializable(typeof(ChairEvent))]
    [JsonSerializable(typeof(SiteAlarmsEvent))]
    private sealed partial class CentralJsonContext : JsonSerializerContext;
}
