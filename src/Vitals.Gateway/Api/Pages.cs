using Vitals.Gateway.Config;
using static Vitals.Web.WebPages;

namespace Vitals.Gateway.Api;

/// <summary>The HTML pages. Served by endpoints rather than as static files so each can require its role.</summary>
public static class Pages
{
    /// <summary>Maps <c>/</c> (nurse view), <c>/chairs/{id}</c> (chair detail), <c>/login</c> and <c>/admin</c>.</summary>
    public static IEndpointRouteBuilder MapPages(this IEndpointRouteBuilder app, GatewayOptions options)
    {
        app.MapGet("/", (HttpContext http) => Page(http, "index.html")).RequireRead(options);
        app.MapLoginPage();
        app.MapGet("/admin", (HttpContext http) => Page(http, "admin.html")).RequireAuthorization(Policies.Admin);
        app.MapGet("/chairs/{id}", (string id, Pipeline.LiveState live, HttpContext http) =>
            live.ChairIds.Contains(id) ? Page(http, "chair.html") : TypedResults.NotFound()).RequireRead(options);
        return app;
    }
}
