using Vitals.Gateway.Auth;
using Vitals.Gateway.Config;

namespace Vitals.Gateway.Api;

/// <summary>The HTML pages. Served by endpoints rather than as static files so each can require its role.</summary>
public static class Pages
{
    /// <summary>Maps <c>/</c> (nurse view), <c>/chairs/{id}</c> (chair detail), <c>/login</c> and <c>/admin</c>.</summary>
    public static IEndpointRouteBuilder MapPages(this IEndpointRouteBuilder app, GatewayOptions options)
    {
        app.MapGet("/", () => Page("index.html")).RequireRead(options);
        app.MapGet("/login", () => Page("login.html")).AllowAnonymous();
        app.MapGet("/admin", () => Page("admin.html")).RequireAuthorization(Policies.Admin);
        app.MapGet("/chairs/{id}", (string id, Pipeline.LiveState live) =>
            live.ChairIds.Contains(id) ? Page("chair.html") : TypedResults.NotFound()).RequireRead(options);
        return app;
    }

    private static IResult Page(string file) =>
        TypedResults.PhysicalFile(Path.Combine(AppContext.BaseDirectory, "Pages", file), "text/html; charset=utf-8");
}
