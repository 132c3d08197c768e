using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Vitals.Web;

/// <summary>Cookie authentication, roles, antiforgery and login rate limiting.</summary>
public static class AuthSetup
{
    /// <summary>Rate limiter policy applied to the login endpoint.</summary>
    public const string LoginRateLimit = "login";

    /// <summary>Signed-in sessions expire after this long without activity (about a nursing shift).</summary>
    public static readonly TimeSpan SessionIdle = TimeSpan.FromHours(8);

    /// <summary>Registers authentication and authorization services.</summary>
    public static IServiceCollection AddVitalsAuth(this IServiceCollection services, IWebAccessOptions options)
    {
        services.AddSingleton(options);
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.Cookie.Name = "vitals.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = SessionIdle;
                o.SlidingExpiration = true;
                o.LoginPath = "/login";
                o.AccessDeniedPath = "/login";

                // Every request: the session must still exist (not logged out, revoked, or past its absolute lifetime).
                o.Events.OnValidatePrincipal = ValidateSessionAsync;

                // APIs answer 401/403; pages redirect to the login page.
                o.Events.OnRedirectToLogin = ctx => ApiOrRedirect(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => ApiOrRedirect(ctx, StatusCodes.Status403Forbidden);
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Read, p => p.RequireRole(Roles.Viewer, Roles.Nurse, Roles.Admin))
            .AddPolicy(Policies.Nurse, p => p.RequireRole(Roles.Nurse, Roles.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin));
        services.AddAntiforgery(o =>
        {
            o.HeaderName = "X-CSRF-TOKEN";
            o.Cookie.Name = "vitals.csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(LoginRateLimit, ctx => RateLimitPartition.GetFixedWindowLimiter(
                ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.LoginAttemptsPerMinute, Window = TimeSpan.FromMinutes(1) }));
        });
        return services;
    }

    /// <summary>Read access: open in demo mode (demo data only), any signed-in role otherwise.</summary>
    public static TBuilder RequireRead<TBuilder>(this TBuilder builder, IWebAccessOptions options)
        where TBuilder : IEndpointConventionBuilder =>
        options.Demo ? builder.AllowAnonymous() : builder.RequireAuthorization(Policies.Read);

    /// <summary>Rejects state-changing requests without a valid antiforgery token (header <c>X-CSRF-TOKEN</c>).</summary>
    public static TBuilder RequireAntiforgery<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
            {
                var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
                if (!await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
                {
                    return TypedResults.Problem(
                        "The request has no valid antiforgery token. Reload the page, or send the token from GET /api/auth/csrf in the X-CSRF-TOKEN header.",
                        statusCode: StatusCodes.Status400BadRequest,
                        title: "Antiforgery token missing or invalid");
                }
            }

            return await next(ctx).ConfigureAwait(false);
        });

    /// <summary>The name of the signed-in user, for audit entries.</summary>
    public static string UserName(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";

    /// <summary>Signs <paramref name="name"/> in with <paramref name="role"/> in a new server-side session.</summary>
    public static Task SignInAsync(HttpContext http, string name, string role)
    {
        var id = http.RequestServices.GetRequiredService<SessionRegistry>().Start(name);
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role), new Claim(SessionClaim, id)],
            CookieAuthenticationDefaults.AuthenticationScheme);
        return http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
    }

    /// <summary>Ends the caller's session on the server and clears its cookie.</summary>
    public static Task SignOutAsync(HttpContext http)
    {
        http.RequestServices.GetRequiredService<SessionRegistry>().End(http.User.FindFirstValue(SessionClaim));
        return http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    private const string SessionClaim = "vitals.session";

    private static async Task ValidateSessionAsync(CookieValidatePrincipalContext ctx)
    {
        var sessions = ctx.HttpContext.RequestServices.GetRequiredService<SessionRegistry>();
        var principal = ctx.Principal;
        if (principal is null || !sessions.IsValid(principal.FindFirstValue(SessionClaim), principal.Identity?.Name))
        {
            ctx.RejectPrincipal();
            await ctx.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
        }
    }

    private static Task ApiOrRedirect(RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        if (ctx.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
        {
            ctx.Response.StatusCode = status;
        }
        else if (status == StatusCodes.Status403Forbidden)
        {
            // Signed in with the wrong role: a login redirect would loop, so say what is needed instead.
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "text/html; charset=utf-8";
            return ctx.Response.WriteAsync(
                "<!doctype html><title>Vitals: not allowed</title><link rel=\"stylesheet\" href=\"/app.css\"><body>"
                + "<h1>403: this page needs another role</h1><p>You are signed in without the role this page needs (admin pages need an admin).</p>"
                + "<p><a href=\"/\">Chair overview</a> &middot; <a href=\"/login\">Log in as someone else</a></p></body>");
        }
        else
        {
            ctx.Response.Redirect(ctx.RedirectUri);
        }

        return Task.CompletedTask;
    }
}
