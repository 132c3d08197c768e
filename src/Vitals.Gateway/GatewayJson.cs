using System.Text.Json;
using System.Text.Json.Serialization;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Api;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;
using Vitals.Gateway.Pipeline;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway;

/// <summary>
/// The gateway's JSON: <see cref="Json"/>'s conventions, with type metadata generated at build time for what the gateway
/// reads and writes on start-up and per message or request (config, engine-state rows, API views, SSE events). Built
/// with reflection instead, that metadata cost JIT compilations of reflection and emitted accessors at every start.
/// </summary>
public static partial class GatewayJson
{
    /// <summary>Serializer options for the gateway's own payloads (and, through <see cref="Json"/>, the shared ones).</summary>
    public static readonly JsonSerializerOptions Options = Json.Create(GatewayJsonContext.Default);

    /// <summary>The generated metadata, for options with other conventions (the config file's, the HTTP layer's).</summary>
    public static JsonSerializerContext Metadata => GatewayJsonContext.Default;

    [JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
    [JsonSerializable(typeof(GatewayOptions))]
    [JsonSerializable(typeof(List<DeviceOptions>))]
    [JsonSerializable(typeof(SavedChair))]
    [JsonSerializable(typeof(StaleView))]
    [JsonSerializable(typeof(Heartbeat))]
    [JsonSerializable(typeof(IEnumerable<ObsView>))]
    [JsonSerializable(typeof(List<ObsView>))]
    [JsonSerializable(typeof(BaselineStatus))]
    [JsonSerializable(typeof(List<StoredEvent>))]
    [JsonSerializable(typeof(JsonElement))]
    [JsonSerializable(typeof(VitalsApi.InfoView))]
    [JsonSerializable(typeof(VitalsApi.StatusView))]
    [JsonSerializable(typeof(NurseApi.ChairStatusView))]
    [JsonSerializable(typeof(List<NurseApi.ChairStatusView>))]
    [JsonSerializable(typeof(NurseApi.AcknowledgeView))]
    [JsonSerializable(typeof(NurseApi.PauseView))]
    [JsonSerializable(typeof(NurseApi.SessionView))]
    [JsonSerializable(typeof(NurseApi.ProblemDetailsView))]
    [JsonSerializable(typeof(NurseApi.PauseRequest))]
    [JsonSerializable(typeof(NurseApi.StartSessionRequest))]
    [JsonSerializable(typeof(NurseApi.BaselineRequest))]
    [JsonSerializable(typeof(KioskApi.KioskView))]
    [JsonSerializable(typeof(AdminApi.ConfigView))]
    [JsonSerializable(typeof(AdminApi.ValueRequest))]
    [JsonSerializable(typeof(AdminApi.ProfileRequest))]
    [JsonSerializable(typeof(List<AdminApi.AuditView>))]
    [JsonSerializable(typeof(List<AdminApi.BindingView>))]
    [JsonSerializable(typeof(AdminApi.BindingChange))]
    [JsonSerializable(typeof(IReadOnlyList<DeviceOptions>))]
    [JsonSerializable(typeof(VitalsApi.SnapshotView))]
    [JsonSerializable(typeof(DecodeCommand.DecodedObservation))]
    [JsonSerializable(typeof(object))]
    private sealed partial class GatewayJsonContext : JsonSerializerContext;
}
