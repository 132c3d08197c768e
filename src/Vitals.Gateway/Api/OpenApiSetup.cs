using Microsoft.AspNetCore.Authorization;
using Vitals.Gateway.Config;

namespace Vitals.Gateway.Api;

/// <summary>The OpenAPI document at <c>/openapi/v1.json</c>, with each operation's roles written into its description.</summary>
public static class OpenApiSetup
{
    /// <summary>Registers the document generator.</summary>
    public static IServiceCollection AddVitalsOpenApi(this IServiceCollection services, GatewayOptions options) =>
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((doc, _, _) =>
            {
                doc.Info.Title = "Vitals gateway API";
                doc.Info.Description =
                    "Secondary display and alerting aid, not a medical device; the bedside monitor's alarms remain primary. "
                    + "Cookie sessions from POST /api/auth/login. Every POST, PUT and DELETE needs the antiforgery token from "
                    + "GET /api/auth/csrf in the X-CSRF-TOKEN header. Anonymous requests get 401, the wrong role 403, bad input 400 "
                    + "with problem details naming the field." + (options.Demo ? " This gateway runs in demo mode: read endpoints are open." : "");
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                var roles = RolesOf(context.Description.ActionDescriptor.EndpointMetadata);
                var method = context.Description.HttpMethod ?? "GET";
                var csrf = HttpMethods.IsGet(method) || roles == "anonymous" && !context.Description.RelativePath!.StartsWith("api/auth", StringComparison.Ordinal)
                    ? "" : " Needs the X-CSRF-TOKEN header.";
                operation.Description = $"Roles: {roles}.{csrf}" + (operation.Description is { Length: > 0 } d ? " " + d : "");
                return Task.CompletedTask;
            });
        });

    /// <summary>Who may call an endpoint, read from its authorization metadata.</summary>
    internal static string RolesOf(IList<object> metadata)
    {
        // The last policy or allow-anonymous added wins, as in the authorization middleware's view of groups.
        string? roles = null;
        foreach (var item in metadata)
        {
            if (item is IAllowAnonymous)
            {
                roles = "anonymous";
            }
            else if (item is IAuthorizeData { Policy: { } policy })
            {
                roles = policy switch
                {
                    Policies.Admin => Roles.Admin,
                    Policies.Nurse => $"{Roles.Nurse}, {Roles.Admin}",
                    Policies.Read => $"{Roles.Viewer}, {Roles.Nurse}, {Roles.Admin}",
                    _ => policy,
                };
            }
        }

        return roles ?? "anonymous";
    }
}
