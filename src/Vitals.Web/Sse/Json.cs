using System.Text.Json;
using Vitals.Storage;

namespace Vitals.Web;

/// <summary>The JSON shape of everything the gateway sends out (API, SSE): camelCase keys, enums as snake_case strings (<c>nibp_sys</c>, <c>high</c>).</summary>
public static class Json
{
    /// <summary>Shared serializer options.</summary>
    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>Applies the gateway's conventions to <paramref name="options"/>: the ones the event log is read back with (<see cref="StorageJson.Configure"/>).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options) => StorageJson.Configure(options);

    private static JsonSerializerOptions Create() => Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
