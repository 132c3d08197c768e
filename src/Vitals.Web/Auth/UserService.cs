using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Vitals.Storage.Sqlite;

namespace Vitals.Web;

/// <summary>Role names. <c>viewer</c> is a read-only wall display.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Nurse = "nurse";
    public const string Viewer = "viewer";

    /// <summary>Every role.</summary>
    public static readonly IReadOnlyList<string> All = [Admin, Nurse, Viewer];

    /// <summary>The account name of wall-display kiosk sessions (a viewer); reserved, so no user can take it.</summary>
    public const string KioskUser = "kiosk";
}

/// <summary>Authorization policy names.</summary>
public static class Policies
{
    /// <summary>Any signed-in user (viewer, nurse or admin).</summary>
    public const string Read = "read";

    /// <summary>Nurses and admins: alarm handling, infusion sessions.</summary>
    public const string Nurse = "nurse";

    /// <summary>Admins only: limits, bindings, users.</summary>
    public const string Admin = "admin";
}

/// <summary>The outcome of a login attempt. Messages never say whether the user exists.</summary>
/// <param name="User">The account, when the credentials were accepted.</param>
/// <param name="Error">Why not, in words for the login page.</param>
/// <param name="RetryAt">Set when the attempt was not checked because of throttling: try again after then.</param>
public sealed record LoginResult(UserRecord? User, string? Error, DateTimeOffset? RetryAt = null)
{
    /// <summary>True when the credentials were accepted.</summary>
    public bool Ok => User is not null;
}

/// <summary>Local accounts: password checks with throttling, account management, first-run bootstrap.</summary>
public sealed class UserService(UserStore store, SessionRegistry sessions, LoginThrottle throttle, TimeProvider time)
{
    /// <summary>Shortest password accepted.</summary>
    public const int MinPasswordLength = 10;

    /// <summary>Longest user name (accounts and login attempts alike).</summary>
    public const int MaxNameLength = 64;

    /// <summary>Longest password a login or account change may send (PasswordHasher cost grows with length).</summary>
    public const int MaxPasswordLength = 256;

    /// <summary>The answer to every rejected login, whether the name exists, is disabled, or the password is wrong.</summary>
    public const string WrongCredentials = "Wrong user name or password.";

    /// <summary>Demo accounts, created only by <c>vitals demo</c> and shown on its login page.</summary>
    public static readonly IReadOnlyList<(string Name, string Role, string Password)> DemoUsers =
    [
        ("nurse", Roles.Nurse, "nurse-demo-1"),
        ("admin", Roles.Admin, "admin-demo-1"),
        ("wall", Roles.Viewer, "wall-demo-1"),
    ];

    private readonly PasswordHasher<string> hasher = new();

    /// <summary>The sessions this service ends when an account changes.</summary>
    public SessionRegistry Sessions => sessions;

    /// <summary>The login throttle (admins can see and clear it).</summary>
    public LoginThrottle Throttle => throttle;

    /// <summary>
    /// Checks a name and password typed from <paramref name="address"/>. Throttled attempts are not checked at all, and
    /// unknown, disabled and throttled names get exactly the answers a real account would.
    /// </summary>
    public LoginResult Verify(string name, string password, string address = "local")
    {
        if (throttle.RetryAt(name, address) is { } retryAt)
        {
            return new LoginResult(null, $"Too many failed logins for this name or from this device. Wait {SecondsUntil(retryAt, time)} s and try again.", retryAt);
        }

        var user = store.Find(name);
        if (user is null || user.Disabled)
        {
            // Hash anyway so a missing user takes as long as a wrong password.
            hasher.HashPassword(name, password);
            throttle.Failed(name, address);
            return new LoginResult(null, WrongCredentials);
        }

        if (hasher.VerifyHashedPassword(user.Name, user.PasswordHash, password) == PasswordVerificationResult.Failed)
        {
            throttle.Failed(name, address);
            return new LoginResult(null, WrongCredentials);
        }

        throttle.Succeeded(name, address);
        return new LoginResult(user, null);
    }

    /// <summary>Whole seconds from now until <paramref name="at"/>, at least 1 (for messages and Retry-After).</summary>
    public static int SecondsUntil(DateTimeOffset at, TimeProvider time) =>
        Math.Max(1, (int)Math.Ceiling((at - time.GetUtcNow()).TotalSeconds));

    /// <summary>
    /// How a typed login name appears in the audit log and the throttling view: an existing account's own name; any
    /// other text (often a password typed into the name field) only as <c>unknown:</c> and 8 hex digits of its SHA-256,
    /// enough to see repeated attempts with the same name, never the text.
    /// </summary>
    public string Pseudonymize(string typed) =>
        store.Find(typed) is { } user ? user.Name
            : "unknown:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(typed.ToLowerInvariant())))[..8];

    /// <summary>Every account (hashes included; callers must not expose them).</summary>
    public List<UserRecord> All() => store.All();

    /// <summary>Creates an account. Returns a problem keyed by field name, or null on success.</summary>
    public (string Field, string Message)? Create(string name, string role, string password)
    {
        if ((CheckName(name) ?? CheckRole(role) ?? CheckPassword(password)) is { } problem)
        {
            return problem;
        }

        return store.Create(name, role, hasher.HashPassword(name, password), time.GetUtcNow())
            ? null
            : ("name", $"A user called '{name}' already exists.");
    }

    /// <summary>Changes role, password and/or disabled flag. Returns a problem keyed by field name, or null.</summary>
    public (string Field, string Message)? Update(string name, string? role, string? password, bool? disabled)
    {
        var user = store.Find(name);
        if (user is null)
        {
            return ("name", $"There is no user called '{name}'.");
        }

        if (((role is null ? null : CheckRole(role)) ?? (password is null ? null : CheckPassword(password))) is { } problem)
        {
            return problem;
        }

        var updated = user with
        {
            Role = role ?? user.Role,
            PasswordHash = password is null ? user.PasswordHash : hasher.HashPassword(user.Name, password),
            Disabled = disabled ?? user.Disabled,
        };
        store.Update(updated);

        // Any change to who the account is or how it signs in ends its sessions (ASVS 3.3.3).
        if (updated != user)
        {
            sessions.EndAllOf(user.Name);
        }

        if (password is not null)
        {
            throttle.Clear(user.Name, null);
        }

        return null;
    }

    /// <summary>Deletes an account and ends its sessions; false if there was none.</summary>
    public bool Delete(string name)
    {
        var deleted = store.Delete(name);
        sessions.EndAllOf(name);
        return deleted;
    }

    /// <summary>
    /// First run: demo mode creates the demo accounts; otherwise, with no accounts at all, creates <c>admin</c>
    /// with the password from <c>VITALS_ADMIN_PASSWORD</c> or the file named by <c>VITALS_ADMIN_PASSWORD_FILE</c>,
    /// or a generated one-time password written once to <paramref name="console"/> (never to the log).
    /// </summary>
    public void Bootstrap(bool demo, TextWriter console, Func<string, string?> environment)
    {
        if (demo)
        {
            foreach (var (name, role, demoPassword) in DemoUsers)
            {
                if (store.Find(name) is null)
                {
                    store.Create(name, role, hasher.HashPassword(name, demoPassword), time.GetUtcNow());
                }
            }

            return;
        }

        if (store.Count() > 0)
        {
            return;
        }

        var password = environment("VITALS_ADMIN_PASSWORD");
        var file = environment("VITALS_ADMIN_PASSWORD_FILE");
        if (string.IsNullOrEmpty(password) && !string.IsNullOrEmpty(file))
        {
            password = File.ReadAllText(file).Trim();
        }

        var generated = string.IsNullOrEmpty(password);
        password = generated ? GeneratePassword() : password!;
        if (CheckPassword(password) is { } problem)
        {
            throw new ConfigException($"VITALS_ADMIN_PASSWORD: {problem.Message} Fix: set a longer password or leave it unset to have one generated.");
        }

        store.Create("admin", Roles.Admin, hasher.HashPassword("admin", password), time.GetUtcNow());
        if (generated)
        {
            console.WriteLine($"First run: created user 'admin' with the one-time password {password}");
            console.WriteLine("It is shown only now. Log in, then create personal accounts and change this password under Admin > Users.");
        }
    }

    private static string GeneratePassword()
    {
        const string Alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(Alphabet, 16);
    }

    private static (string Field, string Message)? CheckName(string name) =>
        string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')
            ? ("name", $"Use 1-{MaxNameLength} letters, digits, '.', '-' or '_'.")
            : string.Equals(name, Roles.KioskUser, StringComparison.OrdinalIgnoreCase)
                ? ("name", $"'{name}' is reserved for the wall-display kiosk link.")
                : null;

    private static (string Field, string Message)? CheckRole(string role) =>
        Roles.All.Contains(role) ? null : ("role", $"Role must be one of {string.Join(", ", Roles.All)}.");

    private static (string Field, string Message)? CheckPassword(string password) =>
        password.Length is < MinPasswordLength or > MaxPasswordLength
            ? ("password", $"Password must be {MinPasswordLength}-{MaxPasswordLength} characters.")
            : null;
}
