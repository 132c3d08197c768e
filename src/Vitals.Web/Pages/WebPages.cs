namespace Vitals.Web;

/// <summary>Serving the HTML pages of either host: the shared login page and the no-store page helper.</summary>
public static class WebPages
{
    /// <summary>Maps <c>/login</c>.</summary>
    public static IEndpointRouteBuilder MapLoginPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", Login).AllowAnonymous();
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

    /// <summary>The page <paramref name="file"/> from the host's <c>Pages</c> folder (relative, so <c>central/index.html</c> works).</summary>
    public static IResult Page(HttpContext http, string file)
    {
        ArgumentNullException.ThrowIfNull(http);

        // Not cached: after a logout the browser must ask again, so a signed-out page is never shown from cache.
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.PhysicalFile(Path.Combine(AppContext.BaseDirectory, "Pages", file), "text/html; charset=utf-8");
    }
}
