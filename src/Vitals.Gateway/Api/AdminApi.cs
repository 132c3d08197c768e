using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;
using Vitals.Gateway.Pipeline;
using Vitals.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Api;

/// <summary>Admin-only endpoints: alarm configuration (audited, validated per key), the audit log, chair bindings.</summary>
public static class AdminApi
{
    /// <summary>Event log types the audit view can filter on.</summary>
    public static readonly IReadOnlyList<string> AuditTypes = [AuditLog.EventType, AlarmService.ConfigEventType, "alarm"];

    /// <summary>Maps <c>/api/admin/*</c>.</summary>
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").RequireAuthorization(Policies.Admin).RequireAntiforgery().WithTags("Admin");
        admin.MapGet("/config", Config);
        admin.MapPut("/profiles/{profile}/values/{key}", SetProfileValue);
        admin.MapPut("/chairs/{id}/overrides/{key}", SetChairOverride);
        admin.MapPut("/chairs/{id}/profile", SetChairProfile);
        admin.MapPut("/timing/{key}", SetTiming);
        admin.MapGet("/audit", Audit);
        admin.MapGet("/bindings", Bindings);
        admin.MapPut("/chairs/{id}/devices", SetDevices);
        return app;
    }

    private static Ok<ConfigView> Config(AlarmService alarms, GatewayOptions options) =>
        TypedResults.Ok(alarms.Read((e, _) => ConfigView.From(e.Configuration, options)));

    private static Results<Ok<ConfigChange>, ValidationProblem, NotFound> SetProfileValue(
        string profile, string key, ValueRequest request, AlarmService alarms, HttpContext http)
    {
        if (alarms.Read((e, _) => e.Configuration.FindProfile(profile)) is null)
        {
            return TypedResults.NotFound();
        }

        var user = http.User.UserName();
        return Result(key, alarms.Configure((c, now) => c.SetProfileValue(profile, key, request.Value, user, now)));
    }

    private static Results<Ok<ConfigChange>, ValidationProblem, NotFound> SetChairOverride(
        string id, string key, ValueRequest request, AlarmService alarms, LiveState live, HttpContext http)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        var user = http.User.UserName();
        return Result(key, alarms.Configure((c, now) => c.SetChairOverride(id, key, request.Value, user, now)));
    }

    private static Results<Ok<ConfigChange>, ValidationProblem, NotFound> SetChairProfile(
        string id, ProfileRequest request, AlarmService alarms, LiveState live, HttpContext http)
    {
        if (!live.ChairIds.Contains(id))
        {
            return TypedResults.NotFound();
        }

        var user = http.User.UserName();
        var name = string.IsNullOrWhiteSpace(request.Profile) ? null : request.Profile;
        return Result("profile", alarms.Configure((c, now) => c.SetChairProfile(id, name, user, now)));
    }

    private static Results<Ok<ConfigChange>, ValidationProblem, NotFound> SetTiming(
        string key, ValueRequest request, AlarmService alarms, HttpContext http)
    {
        if (request.Value is not { } value)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [key] = ["A value is required."] });
        }

        var user = http.User.UserName();
        return Result(key, alarms.Configure((c, now) => c.SetTimingValue(key, value, user, now)));
    }

    /// <summary>
    /// Errors are keyed by the key the admin edited (machine-readable, so the page shows them at that field); the text is
    /// plain names and units, naming any other setting involved the way the page does ("high (medium) 160 mmHg").
    /// </summary>
    private static Results<Ok<ConfigChange>, ValidationProblem, NotFound> Result(string key, ConfigResult result) =>
        result.Change is { } change
            ? TypedResults.Ok(change)
            : TypedResults.ValidationProblem(new Dictionary<string, string[]> { [key] = [.. result.Errors.Select(AlarmProfileValidator.PlainText)] });

    private static Results<Ok<List<AuditView>>, ValidationProblem> Audit(
        SqliteStore store, string? type, string? chair, string? user, DateTimeOffset? from, DateTimeOffset? to, int? limit)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (type is not null && !AuditTypes.Contains(type))
        {
            errors["type"] = [$"Use one of {string.Join(", ", AuditTypes)}, or leave it out for all."];
        }

        if (from is { } f && to is { } t && f > t)
        {
            errors["from"] = ["'from' must not be after 'to'."];
        }

        if (limit is < 1 or > 1000)
        {
            errors["limit"] = ["Use 1-1000."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // Newest first through the store's indexes: the newest matches, however long the log.
        var newest = store.ReadEventsNewestFirst(type is null ? AuditTypes : [type], chair, user, from, to, limit ?? 200);
        return TypedResults.Ok(newest.Select(AuditView.From).ToList());
    }

    private static Ok<List<BindingView>> Bindings(GatewayOptions options, FeedManager feeds, SqliteStore store) =>
        TypedResults.Ok(options.Chairs.Select(c => View(c, feeds, store)).ToList());

    private static BindingView View(ChairOptions chair, FeedManager feeds, SqliteStore store)
    {
        var stored = ChairBindings.Load(store, chair.Id);
        var running = feeds.RunningDevices(chair.Id);
        var saved = stored ?? [.. running];
        var pending = JsonSerializer.Serialize(saved, GatewayJson.Options.TypeInfo<IReadOnlyList<DeviceOptions>>()) != JsonSerializer.Serialize(running, GatewayJson.Options.TypeInfo<IReadOnlyList<DeviceOptions>>());
        return new BindingView(chair.Id, chair.DisplayName, [.. saved.Select(DeviceJson)], stored is null ? "file" : "admin", pending);
    }

    // One binding change at a time, so the stored value, the audit entry and the running feeds agree.
    private static readonly SemaphoreSlim BindingGate = new(1, 1);

    private static async Task<Results<Ok<BindingChange>, ValidationProblem, NotFound>> SetDevices(
        string id, JsonElement body, GatewayOptions options, FeedManager feeds, SqliteStore store, AuditLog audit, TimeProvider time, HttpContext http)
    {
        if (options.Chairs.FirstOrDefault(c => c.Id == id) is not { } chair)
        {
            return TypedResults.NotFound();
        }

        var list = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("devices", out var inner) ? inner : body;
        var parseErrors = new List<string>();
        if (ConfigLoader.ParseDevices(list, parseErrors) is not { } devices)
        {
            return TypedResults.ValidationProblem(parseErrors
                .Select(e => e.Split(": ", 2))
                .GroupBy(p => p[0], StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(p => p.Length > 1 ? p[1] : p[0]).ToArray(), StringComparer.Ordinal));
        }

        var errors = ChairBindings.Validate(options, id, devices);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        await BindingGate.WaitAsync(http.RequestAborted).ConfigureAwait(false);
        try
        {
            var before = ChairBindings.Load(store, id) ?? [.. feeds.RunningDevices(id)];
            ChairBindings.Save(store, id, devices, time.GetUtcNow());
            var reason = feeds.WhyNotLive(devices);
            if (reason is null)
            {
                await feeds.RestartChairAsync(chair, devices).ConfigureAwait(false);
            }

            var applied = reason is null ? "now" : "after restart";
            audit.Write("bindings.changed", http.User.UserName(), id, $"{ChairBindings.Summary(before)} -> {ChairBindings.Summary(devices)} (applied {applied})");
            var message = reason is null
                ? $"Saved. {chair.DisplayName} uses the new devices now."
                : $"Saved. {reason} {chair.DisplayName} keeps its current devices until the gateway is restarted.";
            return TypedResults.Ok(new BindingChange(id, applied, message, [.. devices.Select(DeviceJson)]));
        }
        finally
        {
            BindingGate.Release();
        }
    }

    /// <summary>A device's settings without anything that looks like a credential (feeds gain new kinds over time).</summary>
    private static JsonObject DeviceJson(DeviceOptions device)
    {
        var node = JsonSerializer.SerializeToNode(device, GatewayJson.Options.TypeInfo<DeviceOptions>())!.AsObject();
        foreach (var name in node.Select(p => p.Key).ToList())
        {
            if (name.Contains("password", StringComparison.OrdinalIgnoreCase) || name.Contains("secret", StringComparison.OrdinalIgnoreCase)
                || name.Contains("token", StringComparison.OrdinalIgnoreCase) || name.Contains("key", StringComparison.OrdinalIgnoreCase))
            {
                node.Remove(name);
            }
        }

        return node;
    }

    /// <summary>A numeric configuration value; null removes a profile key or chair override.</summary>
    public sealed record ValueRequest(double? Value);

    /// <summary>The profile a chair uses; null or empty: the default.</summary>
    public sealed record ProfileRequest(string? Profile);

    /// <summary>The whole alarm configuration as key -> value maps.</summary>
    public sealed record ConfigView(long Version, string DefaultProfile, List<ProfileView> Profiles, List<ChairConfigView> Chairs, SortedDictionary<string, double> Timing)
    {
        /// <summary>Reads the configuration (call under the engine lock).</summary>
        public static ConfigView From(AlarmConfiguration c, GatewayOptions options) => new(
            c.Version,
            c.DefaultProfileName,
            [.. c.Profiles.Select(ProfileView.From)],
            [.. options.Chairs.Select(ch => new ChairConfigView(ch.Id, ch.DisplayName, c.ChairProfile(ch.Id), new SortedDictionary<string, double>(c.ChairOverrides(ch.Id).ToDictionary(), StringComparer.Ordinal)))],
            c.Timing.Values());
    }

    /// <summary>A profile: limit thresholds and per-sign timing as key -> value, plus the keys that are inclusive (&lt;=, &gt;=).</summary>
    public sealed record ProfileView(string Name, SortedDictionary<string, double> Values, List<string> Inclusive, List<string> Checks)
    {
        /// <summary>Flattens a profile to its configuration keys.</summary>
        public static ProfileView From(AlarmProfile p) =>
            new(p.Name, p.Values(), [.. p.Limits.Where(b => b.Inclusive).Select(b => b.Key)], [.. p.Checks.Select(c => c.Label)]);
    }

    /// <summary>A chair's profile (null: default) and its overrides.</summary>
    public sealed record ChairConfigView(string Id, string Name, string? Profile, SortedDictionary<string, double> Overrides);

    /// <summary>
    /// A chair and its saved devices; <c>source</c> is <c>file</c> (config file) or <c>admin</c> (saved in the admin view);
    /// <c>pendingRestart</c> is true when the saved devices are not the running ones yet.
    /// </summary>
    public sealed record BindingView(string Chair, string Name, List<JsonObject> Devices, string Source, bool PendingRestart);

    /// <summary>A saved binding change: <c>applied</c> is <c>now</c> (the chair runs the new devices) or <c>after restart</c> (the message says why).</summary>
    public sealed record BindingChange(string Chair, string Applied, string Message, List<JsonObject> Devices);

    /// <summary>One event log entry for the audit view, with who did it and a one-line summary.</summary>
    public sealed record AuditView(long Id, DateTimeOffset At, string Type, string? Chair, string? User, string Summary, JsonElement Data)
    {
        /// <summary>Summarises a stored event of type audit, alarm-config or alarm.</summary>
        public static AuditView From(StoredEvent e)
        {
            using var doc = JsonDocument.Parse(e.Data);
            var root = doc.RootElement.Clone();
            string? Str(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            string? Num(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
                ? v.GetDouble().ToString("0.###", CultureInfo.InvariantCulture) : null;
            var summary = e.Type switch
            {
                AuditLog.EventType => $"{Str("action")}{(Str("details") is { } d ? ": " + d : "")}",
                AlarmService.ConfigEventType => $"{Str("scope")} {Str("target")}: {Str("key")} {Str("oldValue") ?? "(unset)"} -> {Str("newValue") ?? "(unset)"}",
                _ => $"{Str("rule")} {Str("state")} ({Str("priority")}): {Str("message")}{(Num("value") is { } v ? $" [value {v}, limit {Num("limit") ?? "-"}]" : "")}",
            };
            return new(e.Id, e.At, e.Type, e.Chair, Str("user"), summary, root);
        }
    }
}
