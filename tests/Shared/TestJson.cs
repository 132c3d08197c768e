using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Vitals.Testing;

/// <summary>
/// The shipped JSON conventions (<see cref="Vitals.Web.Json.Configure"/>) with reflection metadata, for the tests' own
/// types (expected views, anonymous request bodies). The shipped options have generated metadata only, as Native AOT does.
/// </summary>
public static class TestJson
{
    /// <summary>camelCase, nulls omitted, snake_case enums; any type.</summary>
    public static readonly JsonSerializerOptions Options =
        Vitals.Web.Json.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() });
}
