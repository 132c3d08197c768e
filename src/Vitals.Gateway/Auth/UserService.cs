using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Auth;

/// <summary>Role names. <c>viewer</c> is a read-only wall display.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Nurse = "nurse";
    public const string Viewer = "viewer";

    /// <summary>Every role.</summary>
    public static readonly IReadOnlyList<string> All = [Admin, Nurse, Viewer];
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
public sealed record LoginResult(UserRecord? User, string? Error, DateTimeOffset? LockedUntil = null)
{
    /// <summary>True when the credentials were accepted.</summary>
    public bool Ok => User is not null;
}

/// <summary>Local accounts: password checks with lockout, account management, first-run bootstrap.</summary>
public sealed class UserService(UserStore store, TimeProvider time)
{
    /// <summary>Consecutive failures before an account is locked.</summary>
    public const int MaxFailedLogins = 5;

    /// <summary>Shortest password accepted.</summary>
    public const int MinPasswordLength = 10;

    /// <summary>How long a locked account stays locked.</summary>
    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(15);

    /// <summary>Demo accounts, created only by <c>vitals demo</c> and shown on its login page.</summary>
    public static readonly IReadOnlyList<(string Name, string Role, string Password)> DemoUsers =
    [
        ("nurse", Roles.Nurse, "nurse-demo-1"),
        ("admin", Roles.Admin, "admin-demo-1"),
        ("wall", Roles.Viewer, "wall-demo-1"),
    ];

    private readonly PasswordHasher<string> hasher = new();

    /// <summary>Checks a name and password, counting failures and locking the account after <see cref="MaxFailedLogins"/>.</summary>
    public LoginResult Verify(string name, string password)
    {
        const string Invalid = "Wrong user name or password.";
        var now = time.GetUtcNow();
        var user = store.Find(name);
        if (user is null || user.Disabled)
        {
            // Hash anyway so a missing user takes as long as a wrong password.
            hasher.HashPassword(name, password);
            return new LoginResult(null, Invalid);
        }

        if (user.LockedUntil is { } until && until > now)
        {
            return new LoginResult(null, $"Too many failed logins. Try again after {until:HH:mm} UTC or ask an admin.", until);
        }

        if (hasher.VerifyHashedPassword(user.Name, user.PasswordHash, password) == PasswordVerificationResult.Failed)
        {
            var failed = user.FailedLogins + 1;
            var lockedUntil = failed >= MaxFailedLogins ? now + LockoutDuration : (DateTimeOffset?)null;
            store.Update(user with { FailedLogins = failed >= MaxFailedLogins ? 0 : failed, LockedUntil = lockedUntil });
            return lockedUntil is null
                ? new LoginResult(null, Invalid)
                : new LoginResult(null, $"Too many failed logins. Try again after {lockedUntil:HH:mm} UTC or ask an admin.", lockedUntil);
        }

        var ok = user with { FailedLogins = 0, LockedUntil = null };
        if (ok != user)
        {
            store.Update(ok);
        }

        return new LoginResult(ok, null);
    }

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

        store.Update(user with
        {
            Role = role ?? user.Role,
            PasswordHash = password is null ? user.PasswordHash : hasher.HashPassword(user.Name, password),
            Disabled = disabled ?? user.Disabled,
            FailedLogins = password is null ? user.FailedLogins : 0,
            LockedUntil = password is null ? user.LockedUntil : null,
        });
        return null;
    }

    /// <summary>Deletes an account; false if there was none.</summary>
    public bool Delete(string name) => store.Delete(name);

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
            throw new Config.ConfigException($"VITALS_ADMIN_PASSWORD: {problem.Message} Fix: set a longer password or leave it unset to have one generated.");
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
        string.IsNullOrWhiteSpace(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')
            ? ("name", "Use 1-64 letters, digits, '.', '-' or '_'.")
            : null;

    private static (string Field, string Message)? CheckRole(string role) =>
        Roles.All.Contains(role) ? null : ("role", $"Role must be one of {string.Join(", ", Roles.All)}.");

    private static (string Field, string Message)? CheckPassword(string password) =>
        password.Length < MinPasswordLength ? ("password", $"Password must be at least {MinPasswordLength} characters.") : null;
}
