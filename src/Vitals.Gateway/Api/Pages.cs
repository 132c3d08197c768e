using Vitals.Gateway.Auth;
using Vitals.Gateway.Config;

namespace Vitals.Gateway.Api;

/// <summary>The HTML pages. Served by endpoints rather than as static files so each can require its role.</summary>
public static class Pages
{
    /// <summary>Maps <c>/</c> (nurse view), <c>/chairs/{id}</c> (chair detail), <c>/login</c> and <c>/admin</c>.</summary>
    public static IEndpointRouteBuilder MapPages(this IEndpointRouteBuilder app, GatewayOptions options)
    {
        app.MapGet("/", (HttpContext http) => Page(http, "index.html")).RequireRead(options);
        app.MapGet("/login", Login).AllowAnonymous();
        app.MapGet("/admin", (HttpContext http) => Page(http, "admin.html")).RequireAuthorization(Policies.Admin);
        app.MapGet("/chairs/{id}", (string id, Pipeline.LiveState live, HttpContext http) =>
            live.ChairIds.Contains(id) ? Page(http, "chair.html") : TypedResults.NotFound()).RequireRead(options);
        return app;
    }

    /// <summary>
    /// The login page. A <c>ReturnUrl</c> that is not a local path (<c>//evil</c>, <c>/\evil</c>, control characters,
    /// absolute URLs) is dropped here, so the page never sees it; login.js checks again before navigating.
    /// </summary>
    private static IResult Login(HttpContext http, string? returnUrl) =>
        returnUrl is null || IsLocalUrl(returnUrl) ? Page(http, "login.html") : TypedResults.Redirect("/login");

    /// <summary>
    /// ASP.NET Core's local-URL rule (as in <c>IUrlHelper.IsLocalUrl</c>): <c>/</c> or <c>/path</c> but not <c>//</c> or
    /// <c>/\</c>, or <c>~/path</c> likewise, with no control characters (browsers drop tabs and newlines, turning
    /// <c>/\t/host</c> into <c>//host</c>).
    /// </summary>
    public static bool IsLocalUrl(string? url)
    {
        if (string.IsNullOrEmpty(url) || url.Any(char.IsControl))
        {
            return false;
        }

        var path = url.StartsWith("~/", StringComparison.Ordinal) ? url[1..] : url;
        return path[0] == '/' && (path.Length == 1 || (path[1] != '/' && path[1] != '\\'));
    }

    private static IResult Page(HttpContext http, string file)
    {
        // Not cached: after a logout the browser must ask again, so a signed-out page is never shown from cache.
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.PhysicalFile(Path.Combine(AppContext.BaseDirectory, "Pages", file), "text/html; charset=utf-8");
    }
}
