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
        app.MapGet("/login", (HttpContext http) => Page(http, "login.html")).AllowAnonymous();
        app.MapGet("/admin", (HttpContext http) => Page(http, "admin.html")).RequireAuthorization(Policies.Admin);
        app.MapGet("/chairs/{id}", (string id, Pipeline.LiveState live, HttpContext http) =>
            live.ChairIds.Contains(id) ? Page(http, "chair.html") : TypedResults.NotFound()).RequireRead(options);
        return app;
    }

    private static IResult Page(HttpContext http, string file)
    {
        // Not cached: after a logout the browser must ask again, so a signed-out page is never shown from cache.
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.PhysicalFile(Path.Combine(AppContext.BaseDirectory, "Pages", file), "text/html; charset=utf-8");
    }
}
