using System.Text.Json;
using Vitals.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Web;

/// <summary>One audit entry: who did what, when, to which chair, with details (old -> new for changes).</summary>
public sealed record AuditEntry(string Action, string User, string? Chair, string? Details, DateTimeOffset At);

/// <summary>Writes audit entries to the store's append-only event log (type <c>audit</c>).</summary>
public sealed class AuditLog(SqliteStore store, TimeProvider time)
{
    /// <summary>Event log type of audit entries.</summary>
    public const string EventType = "audit";

    /// <summary>Appends an entry. Never pass passwords or patient names here.</summary>
    public void Write(string action, string user, string? chair, string? details)
    {
        var entry = new AuditEntry(action, user, chair, details, time.GetUtcNow());
        store.AppendEvent(entry.At, EventType, chair, JsonSerializer.Serialize(entry, Json.Options.TypeInfo<AuditEntry>()));
    }
}
