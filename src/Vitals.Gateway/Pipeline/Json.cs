using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vitals.Gateway.Pipeline;

/// <summary>The JSON shape of everything the gateway sends out (API, SSE): camelCase keys, enums as snake_case strings (<c>nibp_sys</c>, <c>high</c>).</summary>
public static class Json
{
    /// <summary>Shared serializer options.</summary>
    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>Applies the gateway's conventions to <paramref name="options"/>.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }

    private static JsonSerializerOptions Create() => Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
