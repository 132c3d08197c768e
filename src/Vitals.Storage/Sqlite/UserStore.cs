using Microsoft.Data.Sqlite;

namespace Vitals.Storage.Sqlite;

/// <summary>A local user account. The hash is ASP.NET Core's PasswordHasher format; the password itself is never stored.</summary>
/// <param name="Name">Login name (case-insensitive).</param>
/// <param name="Role">One of <c>admin</c>, <c>nurse</c>, <c>viewer</c>.</param>
/// <param name="PasswordHash">Password hash.</param>
/// <param name="Disabled">An admin disabled the account.</param>
/// <remarks>The table's old <c>failed_logins</c> and <c>locked_until_ms</c> columns are no longer used: login throttling lives in memory.</remarks>
public sealed record UserRecord(string Name, string Role, string PasswordHash, bool Disabled);

/// <summary>A signed-in session as stored: only the SHA-256 of its id, so a copy of the database cannot be replayed.</summary>
/// <param name="IdHash">Lower-case hex SHA-256 of the session id the cookie carries.</param>
/// <param name="User">The account (or <c>kiosk</c>) it belongs to.</param>
/// <param name="Created">When it began (the absolute lifetime counts from here).</param>
public sealed record StoredSession(string IdHash, string User, DateTimeOffset Created);

/// <summary>Local user accounts, in the same SQLite file as the rest of the store.</summary>
public sealed class UserStore
{
    private readonly string connectionString;

    /// <summary>Uses the database at <paramref name="path"/>, creating the users table if needed.</summary>
    public UserStore(string path)
    {
        connectionString = SqliteStore.ConnectionString(path);
        Execute("""
            CREATE TABLE IF NOT EXISTS users (
                name TEXT PRIMARY KEY COLLATE NOCASE, role TEXT NOT NULL, password_hash TEXT NOT NULL,
                failed_logins INTEGER NOT NULL DEFAULT 0, locked_until_ms INTEGER, disabled INTEGER NOT NULL DEFAULT 0,
                created_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS sessions (
                id_hash TEXT PRIMARY KEY, user TEXT NOT NULL COLLATE NOCASE, created_ms INTEGER NOT NULL);
            """, cmd => cmd.ExecuteNonQuery());
    }

    /// <summary>Every stored session: the SHA-256 of its id, its user and when it began.</summary>
    public List<StoredSession> Sessions()
    {
        var result = new List<StoredSession>();
        Execute("SELECT id_hash, user, created_ms FROM sessions;", cmd =>
        {
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                result.Add(new StoredSession(r.GetString(0), r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2))));
            }
        });
        return result;
    }

    /// <summary>Stores a new session and deletes those that began before <paramref name="expiredBefore"/>.</summary>
    public void AddSession(StoredSession session, DateTimeOffset expiredBefore)
    {
        ArgumentNullException.ThrowIfNull(session);
        Execute(
            "DELETE FROM sessions WHERE created_ms < $expired; INSERT INTO sessions (id_hash, user, created_ms) VALUES ($id, $user, $at);",
            cmd =>
            {
                Bind(cmd, ("$expired", expiredBefore.ToUnixTimeMilliseconds()), ("$id", session.IdHash), ("$user", session.User),
                    ("$at", session.Created.ToUnixTimeMilliseconds()));
                cmd.ExecuteNonQuery();
            });
    }

    /// <summary>Deletes one session by the hash of its id.</summary>
    public void DeleteSession(string idHash) =>
        Execute("DELETE FROM sessions WHERE id_hash = $id;", cmd =>
        {
            Bind(cmd, ("$id", idHash));
            cmd.ExecuteNonQuery();
        });

    /// <summary>Deletes every session of <paramref name="user"/> (case-insensitive).</summary>
    public void DeleteSessionsOf(string user) =>
        Execute("DELETE FROM sessions WHERE user = $user;", cmd =>
        {
            Bind(cmd, ("$user", user));
            cmd.ExecuteNonQuery();
        });

    /// <summary>Number of accounts.</summary>
    public long Count()
    {
        long n = 0;
        Execute("SELECT count(*) FROM users;", cmd => n = Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
        return n;
    }

    /// <summary>The account called <paramref name="name"/>, or null.</summary>
    public UserRecord? Find(string name) => Read("WHERE name = $name", ("$name", name)).FirstOrDefault();

    /// <summary>Every account, by name.</summary>
    public List<UserRecord> All() => Read("ORDER BY name");

    /// <summary>Creates an account; false if the name is taken.</summary>
    public bool Create(string name, string role, string passwordHash, DateTimeOffset at)
    {
        var created = 0;
        Execute(
            "INSERT INTO users (name, role, password_hash, created_ms) VALUES ($name, $role, $hash, $at) ON CONFLICT(name) DO NOTHING;",
            cmd =>
            {
                Bind(cmd, ("$name", name), ("$role", role), ("$hash", passwordHash), ("$at", at.ToUnixTimeMilliseconds()));
                created = cmd.ExecuteNonQuery();
            });
        return created == 1;
    }

    /// <summary>Replaces the stored fields of an existing account; false if there is none.</summary>
    public bool Update(UserRecord user)
    {
        var changed = 0;
        Execute(
            """
            UPDATE users SET role = $role, password_hash = $hash, disabled = $disabled WHERE name = $name;
            """,
            cmd =>
            {
                Bind(cmd, ("$name", user.Name), ("$role", user.Role), ("$hash", user.PasswordHash), ("$disabled", user.Disabled ? 1 : 0));
                changed = cmd.ExecuteNonQuery();
            });
        return changed == 1;
    }

    /// <summary>Deletes an account; false if there is none.</summary>
    public bool Delete(string name)
    {
        var changed = 0;
        Execute("DELETE FROM users WHERE name = $name;", cmd =>
        {
            Bind(cmd, ("$name", name));
            changed = cmd.ExecuteNonQuery();
        });
        return changed == 1;
    }

    private static void Bind(SqliteCommand cmd, params (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }

    private List<UserRecord> Read(string where, params (string Name, object? Value)[] values)
    {
        var result = new List<UserRecord>();
        Execute($"SELECT name, role, password_hash, disabled FROM users {where};", cmd =>
        {
            Bind(cmd, values);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                result.Add(new UserRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3) != 0));
            }
        });
        return result;
    }

    private void Execute(string sql, Action<SqliteCommand> run)
    {
        using var conn = new SqliteConnection(connectionString);
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        run(cmd);
    }
}
