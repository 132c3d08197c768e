using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vitals.Storage;

/// <summary>
/// The JSON shape of event-log payloads: camelCase keys, nulls omitted, enums as snake_case strings
/// (<c>nibp_sys</c>, <c>high</c>). It matches the gateway's own options (Vitals.Gateway.Pipeline.Json),
/// which write the alarm events this project reads back; change both together.
/// </summary>
public static class StorageJson
{
    /// <summary>Shared serializer options (read-only once built).</summary>
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,

            // Reading back: a payload missing a required value fails to decode instead of yielding nulls.
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
