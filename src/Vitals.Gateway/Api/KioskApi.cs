using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Vitals.Gateway.Config;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Api;

/// <summary>
/// A wall-display kiosk token: an admin enables it (the token is shown once and only its SHA-256 is stored; a new token or disabling ends every kiosk session);
/// <c>GET /kiosk?token=...</c> then signs the display in as the read-only <c>viewer</c> role.
/// </summary>
public static class KioskApi
{
    /// <summary>User name kiosk sessions and their audit entries carry.</summary>
    public const string KioskUser = Roles.KioskUser;

    private const string HashKey = "kiosk.token.sha256";

    /// <summary>Maps <c>/kiosk</c> and <c>/api/admin/kiosk</c>.</summary>
    public static IEndpointRouteBuilder MapKioskApi(this IEndpointRouteBuilder app, GatewayOptions options)
    {
        app.MapGet("/kiosk", SignIn).AllowAnonymous().RequireRateLimiting(AuthSetup.LoginRateLimit).ExcludeFromDescription();
        var admin = app.MapGroup("/api/admin/kiosk").RequireAuthorization(Policies.Admin).RequireAntiforgery().WithTags("Admin");
        admin.MapGet("/", (SqliteStore store) => TypedResults.Ok(new KioskView(Enabled(store), null)));
        admin.MapPost("/", Enable);
        admin.MapDelete("/", Disable);
        return app;
    }

    private static bool Enabled(SqliteStore store) => !string.IsNullOrEmpty(store.GetConfig(HashKey));

    private static Ok<KioskView> Enable(SqliteStore store, SessionRegistry sessions, AuditLog audit, TimeProvider time, HttpContext http)
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        store.SetConfig(HashKey, Hash(token), time.GetUtcNow());
        sessions.EndAllOf(KioskUser);
        audit.Write("kiosk.enabled", http.User.UserName(), null, "new token issued (previous one revoked)");
        return TypedResults.Ok(new KioskView(true, token));
    }

    private static NoContent Disable(SqliteStore store, SessionRegistry sessions, AuditLog audit, TimeProvider time, HttpContext http)
    {
        store.SetConfig(HashKey, "", time.GetUtcNow());
        sessions.EndAllOf(KioskUser);
        audit.Write("kiosk.disabled", http.User.UserName(), null, null);
        return TypedResults.NoContent();
    }

    private static async Task<Results<RedirectHttpResult, UnauthorizedHttpResult>> SignIn(string? token, SqliteStore store, AuditLog audit, HttpContext http)
    {
        var stored = store.GetConfig(HashKey);
        if (string.IsNullOrEmpty(token) || string.IsNullOrEmpty(stored)
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(token)), Encoding.ASCII.GetBytes(stored)))
        {
            audit.Write("kiosk.failed", KioskUser, null, null);
            return TypedResults.Unauthorized();
        }

        await AuthSetup.SignInAsync(http, KioskUser, Roles.Viewer).ConfigureAwait(false);
        audit.Write("login", KioskUser, null, Roles.Viewer);
        return TypedResults.Redirect("/");
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Whether the kiosk token is enabled; the token itself only in the answer that created it.</summary>
    public sealed record KioskView(bool Enabled, string? Token);
}
