using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace Vitals.Web;

/// <summary>
/// Turns request-binding failures (bad JSON, a query value of the wrong type, a body over its size limit) into problem
/// details naming the field, instead of the empty 400 minimal APIs answer by default.
/// </summary>
public sealed partial class BadRequestProblems(IProblemDetailsService problems) : IExceptionHandler
{
    /// <inheritdoc/>
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        var (field, message) = Describe(bad);
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : Title,
            },
        }).ConfigureAwait(false);
    }

    /// <summary>The field a binding failure concerns and what to fix; never echoes more than the caller sent.</summary>
    internal static (string Field, string Message) Describe(BadHttpRequestException bad)
    {
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ("body", "The request body is larger than this endpoint accepts.");
        }

        if (bad.InnerException is JsonException json)
        {
            // Syntax errors come from the reader (a JsonException subclass, often wrapped); conversion errors are plain JsonExceptions with the path.
            var syntax = json.GetType() != typeof(JsonException) || json.InnerException is JsonException;
            var path = !syntax && json.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : "body";
            return (path, path == "body"
                ? $"The body is not valid JSON for this request (line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1})."
                : $"'{path}' has the wrong type or format.");
        }

        return ParameterName().Match(bad.Message) is { Success: true } m
            ? (m.Groups[1].Value, WrongFormat(m.Groups[1].Value))
            : ("body", "The request could not be read.");
    }

    /// <summary>The title of a request that could not be bound.</summary>
    internal const string Title = "Bad request";

    /// <summary>What to fix about a query or route value that did not bind.</summary>
    internal static string WrongFormat(string field) => $"'{field}' is missing or has the wrong format.";

    // Framework messages name the parameter as "Type name", e.g. Failed to bind parameter "int? minutes" from "x".
    [GeneratedRegex("""parameter "(?:[^"]* )?([A-Za-z_][A-Za-z0-9_]*)" """, RegexOptions.None, 100)]
    private static partial Regex ParameterName();
}
