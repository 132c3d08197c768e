using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http.Metadata;

namespace Vitals.Web;

/// <summary>
/// Transport and browser protections for every response: problem details for bad requests, HTTPS (HSTS, and an http
/// URL beside an https one redirects), security headers, and request body size limits.
/// </summary>
public static partial class WebSecurity
{
    /// <summary>
    /// The pages load only their own scripts and styles (no inline script, no inline style attributes), talk only to
    /// this origin, and may not be framed (clickjacking).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Body limit of endpoints without their own (configuration edits, nurse actions).</summary>
    public const long DefaultBodyLimit = 64 * 1024;

    /// <summary>Body limit of login and account endpoints, which anyone may call.</summary>
    public const long SmallBodyLimit = 4 * 1024;

    /// <summary>Registers the bad-request problem writer, HSTS and HTTPS redirection settings, and the default body limit.</summary>
    public static IServiceCollection AddVitalsWebSecurity(this IServiceCollection services)
    {
        services.AddExceptionHandler<BadRequestProblems>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddHsts(o =>
        {
            o.MaxAge = TimeSpan.FromDays(365);

            // Sent on every https answer, loopback included, so the recipe behaves the same when tried locally.
            o.ExcludedHosts.Clear();
        });
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = DefaultBodyLimit);
        return services;
    }

    /// <summary>Adds the middleware; call first so every answer, errors and static files included, carries the headers.</summary>
    public static WebApplication UseVitalsWebSecurity(this WebApplication app, IReadOnlyList<string> urls)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();

        // Answers the framework leaves empty (413 body too large, 429 rate limited, 401, 404 ...) get problem details too.
        app.UseStatusCodePages();
        app.Use(static (http, next) =>
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            return next(http);
        });
        if (urls.Any(u => u.StartsWith("https:", StringComparison.OrdinalIgnoreCase)))
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }

        return app;
    }

    /// <summary>Problem details for answers the framework leaves without a body: says what was wrong and which field.</summary>
    public static void DescribeStatus(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var problem = context.ProblemDetails;
        switch (problem.Status)
        {
            case StatusCodes.Status413PayloadTooLarge when problem.Detail is null:
                problem.Detail = "body: the request body is larger than this endpoint accepts.";
                break;
            case StatusCodes.Status429TooManyRequests when problem.Detail is null:
                problem.Detail = "Too many requests from this address. Wait a minute and try again.";
                break;
            case StatusCodes.Status400BadRequest when problem.Detail is null && UnparsableParameter(context.HttpContext) is { } field:
                problem.Title = BadRequestProblems.Title;
                problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [BadRequestProblems.WrongFormat(field)] };
                break;
        }
    }

    /// <summary>
    /// The query or route value of the endpoint that does not parse as its parameter's type. The compiled request
    /// delegates (request delegate generator) answer such a request 400 without a body, where the runtime-built ones
    /// threw naming the parameter (<see cref="BadRequestProblems"/>); so the field is found again here, on the error path only.
    /// </summary>
    internal static string? UnparsableParameter(HttpContext http)
    {
        var parameters = http.GetEndpoint()?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [];
        foreach (var parameter in parameters.Where(p => p.HasTryParse))
        {
            var raw = http.Request.RouteValues.TryGetValue(parameter.Name, out var route) ? Convert.ToString(route, CultureInfo.InvariantCulture) : http.Request.Query[parameter.Name].ToString();
            var type = Nullable.GetUnderlyingType(parameter.ParameterInfo.ParameterType) ?? parameter.ParameterInfo.ParameterType;
            if (!string.IsNullOrEmpty(raw) && Parses(type, raw) is false)
            {
                return parameter.Name;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="raw"/> parses as <paramref name="type"/> the way the endpoint binds it (IParsable with the
    /// invariant culture); null for a type not listed here (the 400 then keeps its generic wording). Listed rather than
    /// found by reflection, which Native AOT cannot do for an arbitrary type; the endpoints' query types are int and
    /// DateTimeOffset (WebSecurityTests checks every endpoint's).
    /// </summary>
    internal static bool? Parses(Type type, string raw) =>
        type == typeof(int) ? Parses<int>(raw)
        : type == typeof(long) ? Parses<long>(raw)
        : type == typeof(double) ? Parses<double>(raw)
        : type == typeof(DateTimeOffset) ? Parses<DateTimeOffset>(raw)
        : type == typeof(DateTime) ? Parses<DateTime>(raw)
        : type == typeof(Guid) ? Parses<Guid>(raw)
        : type == typeof(bool) ? bool.TryParse(raw, out _)
        : null;

    private static bool Parses<T>(string raw)
        where T : IParsable<T> => T.TryParse(raw, CultureInfo.InvariantCulture, out _);

    /// <summary>Limits an endpoint's request body to <paramref name="bytes"/> (413 with problem details beyond it).</summary>
    public static TBuilder LimitBody<TBuilder>(this TBuilder builder, long bytes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyLimit(bytes));

    /// <summary>The plain-http URLs among <paramref name="urls"/> that listen beyond this machine (passwords would cross the network in clear).</summary>
    public static List<string> PlainHttpBeyondLoopback(IEnumerable<string> urls) =>
        [.. urls.Where(u => u.StartsWith("http:", StringComparison.OrdinalIgnoreCase) && !IsLoopback(u))];

    private static bool IsLoopback(string url)
    {
        // Kestrel's wildcards (*, +, 0.0.0.0, [::]) do not parse as a host name the Uri way, so look at the host text.
        var rest = url["http://".Length..];
        var host = rest.StartsWith('[') ? rest[..(rest.IndexOf(']', StringComparison.Ordinal) + 1)] : rest.Split(':', '/')[0];
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    private sealed record BodyLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
