using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Vitals.Core;
using Vitals.Storage.Influx;

namespace Vitals.Storage;

/// <summary>
/// The JSON shape of event-log payloads: camelCase keys, nulls omitted, enums as snake_case strings
/// (<c>nibp_sys</c>, <c>high</c>). The gateway writes the alarm events this project reads back with the same
/// conventions (<see cref="Configure"/>), so the two cannot drift apart.
/// </summary>
public static partial class StorageJson
{
    /// <summary>Shared serializer options (read-only once built).</summary>
    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>Applies the shared conventions (camelCase, nulls omitted, snake_case enums) to <paramref name="options"/>.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }

    private static JsonSerializerOptions Create()
    {
        var options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            // Reading back: a payload missing a required value fails to decode instead of yielding nulls.
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            TypeInfoResolver = JsonTypeInfoResolver.Combine(StorageJsonContext.Default, new DefaultJsonTypeInfoResolver())
                .WithAddedModifier(NullableParametersOptional),
        });
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    // Metadata for the event-log payloads, generated at build time: the reflection resolver (kept behind it for any other
    // type) builds it at run time with reflection and emitted accessors, which the JIT compiles. The options above still
    // decide names, nulls and enums, so the wire format is the same.
    [JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
    [JsonSerializable(typeof(AlarmEvent))]
    [JsonSerializable(typeof(FeedStatusSample))]
    private sealed partial class StorageJsonContext : JsonSerializerContext;

    // Nulls are omitted when written (a technical alarm has no sign, a pause event no priority), so a missing nullable
    // parameter reads back as null; a missing non-nullable one still fails.
    private static void NullableParametersOptional(JsonTypeInfo info)
    {
        foreach (var property in info.Properties)
        {
            if (property.AssociatedParameter is { IsNullable: true })
            {
                property.IsRequired = false;
            }
        }
    }
}
