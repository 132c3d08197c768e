using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Storage.Influx;
using Vitals.Storage.Sqlite;

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
        foreach (var converter in (JsonConverter[])[
            SnakeCase<Sign>(), SnakeCase<AlarmPriority>(), SnakeCase<AlarmKind>(), SnakeCase<AlarmState>(), SnakeCase<SourceProtocol>(),
            SnakeCase<ObservationQuality>(), SnakeCase<DeviceClockVerdict>(), SnakeCase<ConfigScope>(), SnakeCase<LimitDirection>(),
            SnakeCase<BaselineState>(), SnakeCase<BacklogLevel>(), SnakeCase<InfluxApiVersion>(), SnakeCase<InfluxWriteStatus>()])
        {
            options.Converters.Add(converter);
        }

        return options;
    }

    /// <summary>
    /// An enum written as its snake_case name. One generic converter per enum: Native AOT can build it (the non-generic
    /// JsonStringEnumConverter makes its converter type at run time). Every enum a payload carries needs one in its
    /// options, or it is written as a number (JsonEnumTests walks the generated contexts for that).
    /// </summary>
    public static JsonConverter SnakeCase<TEnum>()
        where TEnum : struct, Enum => new JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower);

    /// <summary>The metadata of <typeparamref name="T"/> in <paramref name="options"/>: serializing through it needs no reflection.</summary>
    public static JsonTypeInfo<T> TypeInfo<T>(this JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }

    private static JsonSerializerOptions Create()
    {
        var options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            // Reading back: a payload missing a required value fails to decode instead of yielding nulls.
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            TypeInfoResolver = StorageJsonContext.Default.WithAddedModifier(NullableParametersOptional),
        });
        options.MakeReadOnly();
        return options;
    }

    // Metadata for the event-log payloads, generated at build time (Native AOT has no reflection-built metadata; under
    // the JIT it also saves compiling reflection and emitted accessors). The options above still decide names, nulls and
    // enums, so the wire format is the one reflection wrote.
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
