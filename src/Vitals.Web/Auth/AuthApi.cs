using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Vitals.Web;

/// <summary>Login, logout, the antiforgery token, and user management for admins.</summary>
public static class AuthApi
{
    /// <summary>Maps <c>/api/auth/*</c> and <c>/api/users</c>.</summary>
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").AllowAnonymous();
        auth.MapGet("/csrf", Csrf);
        auth.MapGet("/me", Me);
        auth.MapPost("/login", Login).RequireAntiforgery().RequireRateLimiting(AuthSetup.LoginRateLimit).LimitBody(WebSecurity.SmallBodyLimit);
        auth.MapPost("/logout", Logout).RequireAntiforgery();

        var users = app.MapGroup("/api/users").RequireAuthorization(Policies.Admin).RequireAntiforgery().LimitBody(WebSecurity.SmallBodyLimit);
        users.MapGet("/", ListUsers);
        users.MapPost("/", CreateUser);
        users.MapPut("/{name}", UpdateUser);
        users.MapDelete("/{name}", DeleteUser);

        var throttling = app.MapGroup("/api/admin/login-throttling").RequireAuthorization(Policies.Admin).RequireAntiforgery().WithTags("Admin");
        throttling.MapGet("/", (UserService users) => TypedResults.Ok(users.Throttle.Snapshot(users.Pseudonymize)));
        throttling.MapDelete("/", ClearThrottling);
        return app;
    }

    private static Ok<CsrfView> Csrf(HttpContext http, IAntiforgery antiforgery) =>
        TypedResults.Ok(new CsrfView(antiforgery.GetAndStoreTokens(http).RequestToken!));

    private static Ok<MeView> Me(HttpContext http, IWebAccessOptions options)
    {
        var user = http.User;
        var role = Roles.All.FirstOrDefault(user.IsInRole);
        return TypedResults.Ok(new MeView(
            user.Identity?.IsAuthenticated == true ? user.UserName() : null,
            role,
            options.Demo,
            options.Demo ? [.. UserService.DemoUsers.Select(u => new DemoUserView(u.Name, u.Role, u.Password))] : null));
    }

    private static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> Login(
        LoginRequest request, HttpContext http, UserService users, AuditLog audit, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || string.IsNullOrEmpty(request.Password))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [string.IsNullOrWhiteSpace(request.Name) ? "name" : "password"] = ["Enter your user name and password."],
            });
        }

        if (request.Name.Length > UserService.MaxNameLength || request.Password.Length > UserService.MaxPasswordLength)
        {
            var field = request.Name.Length > UserService.MaxNameLength ? "name" : "password";
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [field] = [$"Too long: user names have at most {UserService.MaxNameLength} characters, passwords {UserService.MaxPasswordLength}."],
            });
        }

        var result = users.Verify(request.Name, request.Password, http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        if (!result.Ok)
        {
            // A typed name that is no account is often a password typed into the wrong field: never store it as typed.
            audit.Write("login.failed", users.Pseudonymize(request.Name), null, result.RetryAt is null ? "wrong credentials" : "throttled");
            if (result.RetryAt is { } retryAt)
            {
                http.Response.Headers.RetryAfter = UserService.SecondsUntil(retryAt, time).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Problem(result.Error, statusCode: StatusCodes.Status429TooManyRequests, title: "Login throttled");
            }

            return TypedResults.Problem(result.Error, statusCode: StatusCodes.Status401Unauthorized, title: "Login failed");
        }

        await AuthSetup.SignInAsync(http, result.User!.Name, result.User.Role).ConfigureAwait(false);
        audit.Write("login", result.User.Name, null, result.User.Role);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> Logout(HttpContext http, AuditLog audit)
    {
        if (http.User.Identity?.IsAuthenticated == true)
        {
            audit.Write("logout", http.User.UserName(), null, null);
        }

        await AuthSetup.SignOutAsync(http).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static Results<Created<UserView>, ValidationProblem> CreateUser(
        NewUserRequest request, UserService users, AuditLog audit, HttpContext http)
    {
        if (users.Create(request.Name ?? "", request.Role ?? "", request.Password ?? "") is { } problem)
        {
            return Invalid(problem);
        }

        audit.Write("user.created", http.User.UserName(), null, $"{request.Name} ({request.Role})");
        return TypedResults.Created($"/api/users/{request.Name}", new UserView(request.Name!, request.Role!, false, null));
    }

    private static Ok<List<UserView>> ListUsers(UserService users)
    {
        var throttled = users.Throttle.Snapshot(name => name).Where(t => t.Kind == "account" && t.RetryAt is not null)
            .ToDictionary(t => t.Key, t => t.RetryAt, StringComparer.OrdinalIgnoreCase);
        return TypedResults.Ok(users.All().Select(u => new UserView(u.Name, u.Role, u.Disabled, throttled.GetValueOrDefault(u.Name))).ToList());
    }

    private static Results<NoContent, ValidationProblem, NotFound> UpdateUser(
        string name, UpdateUserRequest request, UserService users, AuditLog audit, HttpContext http)
    {
        if (users.Update(name, request.Role, request.Password, request.Disabled) is { } problem)
        {
            return problem.Field == "name" ? TypedResults.NotFound() : Invalid(problem);
        }

        var changes = string.Join(", ", new[]
        {
            request.Role is null ? null : $"role -> {request.Role}",
            request.Password is null ? null : "password changed",
            request.Disabled is null ? null : (request.Disabled.Value ? "disabled" : "enabled"),
        }.Where(c => c is not null));
        audit.Write("user.updated", http.User.UserName(), null, $"{name}: {changes}");
        return TypedResults.NoContent();
    }

    private static Results<NoContent, NotFound, ValidationProblem> DeleteUser(string name, UserService users, AuditLog audit, HttpContext http)
    {
        if (string.Equals(name, http.User.UserName(), StringComparison.OrdinalIgnoreCase))
        {
            return Invalid(("name", "You cannot delete your own account."));
        }

        if (!users.Delete(name))
        {
            return TypedResults.NotFound();
        }

        audit.Write("user.deleted", http.User.UserName(), null, name);
        return TypedResults.NoContent();
    }

    /// <summary>Clears the login delays of one account name or address (<c>?account=</c>, <c>?address=</c>), or all of them.</summary>
    private static Results<NoContent, NotFound> ClearThrottling(string? account, string? address, UserService users, AuditLog audit, HttpContext http)
    {
        if (!users.Throttle.Clear(NullIfEmpty(account), NullIfEmpty(address)))
        {
            return TypedResults.NotFound();
        }

        var what = string.Join(", ", new[] { NullIfEmpty(account) is { } a ? users.Pseudonymize(a) : null, NullIfEmpty(address) }.OfType<string>());
        audit.Write("login.throttling_cleared", http.User.UserName(), null, what.Length == 0 ? "all" : what);
        return TypedResults.NoContent();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static ValidationProblem Invalid((string Field, string Message) problem) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [problem.Field] = [problem.Message] });

    /// <summary>Login request body.</summary>
    public sealed record LoginRequest(string? Name, string? Password);

    /// <summary>New user request body.</summary>
    public sealed record NewUserRequest(string? Name, string? Role, string? Password);

    /// <summary>User update request body; null fields are left unchanged.</summary>
    public sealed record UpdateUserRequest(string? Role, string? Password, bool? Disabled);

    /// <summary>The antiforgery token to send in <c>X-CSRF-TOKEN</c>.</summary>
    public sealed record CsrfView(string Token);

    /// <summary>Who is signed in, and in demo mode the demo accounts.</summary>
    public sealed record MeView(string? Name, string? Role, bool Demo, List<DemoUserView>? DemoUsers);

    /// <summary>A demo account shown on the demo login page.</summary>
    public sealed record DemoUserView(string Name, string Role, string Password);

    /// <summary>A user as admins see it (never the hash); <c>throttledUntil</c>: logins for this name from new devices wait until then.</summary>
    public sealed record UserView(string Name, string Role, bool Disabled, DateTimeOffset? ThrottledUntil);
}
