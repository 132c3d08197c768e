using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Vitals.Storage.Sqlite;

namespace Vitals.Web;

/// <summary>
/// Server-side sessions. The cookie carries a random session id; each request is checked against this registry, so
/// logout, disable, delete, role or password change and kiosk revocation end sessions at once. Sessions live in memory
/// (no I/O per request) and in the users database (only the SHA-256 of each id), so they survive a restart.
/// </summary>
public sealed class SessionRegistry
{
    /// <summary>A session ends this long after sign-in, however active it is (ASVS 3.3.1; the sliding idle limit is 8 h).</summary>
    public static readonly TimeSpan AbsoluteLifetime = TimeSpan.FromHours(12);

    private readonly UserStore store;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<string, StoredSession> sessions;

    /// <summary>Loads the stored sessions.</summary>
    public SessionRegistry(UserStore store, TimeProvider time)
    {
        this.store = store;
        this.time = time;
        sessions = new(store.Sessions().Select(s => KeyValuePair.Create(s.IdHash, s)), StringComparer.Ordinal);
    }

    /// <summary>Starts a session for <paramref name="user"/>; returns the id to put in the cookie.</summary>
    public string Start(string user)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var session = new StoredSession(Hash(id), user, now);
        store.AddSession(session, now - AbsoluteLifetime);
        foreach (var expired in sessions.Values.Where(s => now - s.Created >= AbsoluteLifetime))
        {
            sessions.TryRemove(expired.IdHash, out _);
        }

        sessions[session.IdHash] = session;
        return id;
    }

    /// <summary>True when <paramref name="id"/> is a live session of <paramref name="user"/> younger than the absolute lifetime.</summary>
    public bool IsValid(string? id, string? user) =>
        id is not null && user is not null && sessions.TryGetValue(Hash(id), out var s)
        && string.Equals(s.User, user, StringComparison.OrdinalIgnoreCase)
        && time.GetUtcNow() - s.Created < AbsoluteLifetime;

    /// <summary>Ends one session (logout).</summary>
    public void End(string? id)
    {
        if (id is not null && sessions.TryRemove(Hash(id), out var s))
        {
            store.DeleteSession(s.IdHash);
        }
    }

    /// <summary>Ends every session of <paramref name="user"/> (account changed, deleted, or kiosk link revoked).</summary>
    public void EndAllOf(string user)
    {
        foreach (var s in sessions.Values.Where(s => string.Equals(s.User, user, StringComparison.OrdinalIgnoreCase)))
        {
            sessions.TryRemove(s.IdHash, out _);
        }

        store.DeleteSessionsOf(user);
    }

    private static string Hash(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
}
