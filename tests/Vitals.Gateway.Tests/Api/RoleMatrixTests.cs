using System.Net;
using System.Text;
using System.Text.Json;

namespace Vitals.Gateway.Tests.Api;

/// <summary>
/// Every route in the OpenAPI document, called as anonymous, viewer, nurse and admin (and in demo mode), and every
/// state-changing route without the antiforgery header. Who may call what is decided once, in <see cref="Access"/>: a
/// new endpoint without a line there fails <see cref="Document_ListsExactlyTheRoutesInTheTable"/>.
/// </summary>
public sealed class RoleMatrixTests
{
    /// <summary>Who may call each route ("METHOD /path" as in the OpenAPI document); AotGatewayTests calls every GET on the native binary.</summary>
    internal static readonly Dictionary<string, Who> Access = new(StringComparer.Ordinal)
    {
        ["GET /"] = Who.Read,
        ["GET /login"] = Who.Anyone,
        ["GET /admin"] = Who.Admin,
        ["GET /chairs/{id}"] = Who.Read,
        ["GET /healthz"] = Who.Anyone,

        ["GET /api/auth/csrf"] = Who.Anyone,
        ["GET /api/auth/me"] = Who.Anyone,
        ["POST /api/auth/login"] = Who.Anyone,
        ["POST /api/auth/logout"] = Who.Anyone,

        ["GET /api/info"] = Who.Read,
        ["GET /api/chairs"] = Who.Read,
        ["GET /api/chairs/{id}"] = Who.Read,
        ["GET /api/chairs/{id}/history"] = Who.Read,
        ["GET /api/alarms"] = Who.Read,
        ["GET /api/events"] = Who.Read,
        ["GET /api/status"] = Who.Read,
        ["GET /api/stream"] = Who.Read,
        ["GET /api/chair-status"] = Who.Read,
        ["GET /api/chairs/{id}/status"] = Who.Read,
        ["GET /api/chairs/{id}/baseline"] = Who.Read,
        ["GET /api/pause"] = Who.Read,

        ["POST /api/chairs/{id}/alarms/{rule}/acknowledge"] = Who.Nurse,
        ["POST /api/chairs/{id}/acknowledge"] = Who.Nurse,
        ["POST /api/chairs/{id}/pause"] = Who.Nurse,
        ["POST /api/chairs/{id}/resume"] = Who.Nurse,
        ["POST /api/pause"] = Who.Nurse,
        ["POST /api/resume"] = Who.Nurse,
        ["POST /api/chairs/{id}/session"] = Who.Nurse,
        ["DELETE /api/chairs/{id}/session"] = Who.Nurse,
        ["POST /api/chairs/{id}/baseline"] = Who.Nurse,
        ["POST /api/chairs/{id}/checks/{check}/confirm"] = Who.Nurse,

        ["GET /api/users"] = Who.Admin,
        ["POST /api/users"] = Who.Admin,
        ["PUT /api/users/{name}"] = Who.Admin,
        ["DELETE /api/users/{name}"] = Who.Admin,
        ["GET /api/admin/login-throttling"] = Who.Admin,
        ["DELETE /api/admin/login-throttling"] = Who.Admin,
        ["GET /api/admin/config"] = Who.Admin,
        ["PUT /api/admin/profiles/{profile}/values/{key}"] = Who.Admin,
        ["PUT /api/admin/chairs/{id}/overrides/{key}"] = Who.Admin,
        ["PUT /api/admin/chairs/{id}/profile"] = Who.Admin,
        ["PUT /api/admin/timing/{key}"] = Who.Admin,
        ["GET /api/admin/audit"] = Who.Admin,
        ["GET /api/admin/bindings"] = Who.Admin,
        ["PUT /api/admin/chairs/{id}/devices"] = Who.Admin,
        ["GET /api/admin/kiosk"] = Who.Admin,
        ["POST /api/admin/kiosk"] = Who.Admin,
        ["DELETE /api/admin/kiosk"] = Who.Admin,
    };

    /// <summary>Who may call a route. <see cref="Read"/> is open to anonymous callers in demo mode only.</summary>
    internal enum Who
    {
        Anyone,
        Read,
        Nurse,
        Admin,
    }

    private static readonly string[] RolesInOrder = ["anonymous", "viewer", "nurse", "admin"];

    [Fact]
    public async Task Document_ListsExactlyTheRoutesInTheTable()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromSeconds(1));
        var routes = await RoutesAsync(host.Http);
        var undecided = routes.Except(Access.Keys).ToList();
        var gone = Access.Keys.Except(routes).ToList();
        Assert.True(undecided.Count == 0, "Routes without an access decision (add them to RoleMatrixTests.Access): " + string.Join(", ", undecided));
        Assert.True(gone.Count == 0, "Routes in RoleMatrixTests.Access that no longer exist: " + string.Join(", ", gone));
    }

    [Fact]
    public async Task EveryRoute_EveryRole_GetsItsDecision()
    {
        var options = GatewayHost.OneChair("stable", 1);
        options.LoginAttemptsPerMinute = 1000;
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromSeconds(1));
        await CreateAsync(host, "viewer1", "viewer");
        await CreateAsync(host, "nurse1", "nurse");
        await CreateAsync(host, "admin1", "admin");
        var failures = new List<string>();
        foreach (var role in RolesInOrder)
        {
            using var client = host.NewClient();
            if (role != "anonymous")
            {
                await host.LoginAsync(client, role + "1", Password(role));
            }

            failures.AddRange(await CallAllAsync(client, role, demo: false));
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task EveryRoute_DemoMode_ReadIsOpen_ActionsStillNeedTheirRole()
    {
        var options = GatewayApp.DemoOptions(2, 30);
        options.LoginAttemptsPerMinute = 1000;
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromSeconds(1));
        var failures = new List<string>();
        foreach (var (role, name) in new[] { ("anonymous", ""), ("viewer", "wall"), ("nurse", "nurse"), ("admin", "admin") })
        {
            using var client = host.NewClient();
            if (role != "anonymous")
            {
                await host.LoginAsync(client, name, UserServiceDemoPassword(name));
            }

            failures.AddRange(await CallAllAsync(client, role, demo: true));
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task EveryStateChangingRoute_WithoutTheCsrfHeader_Is400()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromSeconds(1));
        var failures = new List<string>();
        foreach (var route in Access.Keys.Where(r => !r.StartsWith("GET ", StringComparison.Ordinal)))
        {
            var (method, path) = Split(route);
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(Fill(path).TrimStart('/'), UriKind.Relative))
            {
                Content = new StringContent("{}", Encoding.UTF8, "application/json"),
            };
            using var response = await host.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.BadRequest || !body.Contains("Antiforgery", StringComparison.Ordinal))
            {
                failures.Add($"{route} without X-CSRF-TOKEN: {(int)response.StatusCode} {body}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync(new Uri("api/admin/config", UriKind.Relative))).StatusCode);
    }

    private static async Task<List<string>> CallAllAsync(HttpClient client, string role, bool demo)
    {
        var failures = new List<string>();

        // Logout last: it ends the session the other calls use.
        foreach (var route in Access.Keys.OrderBy(r => r == "POST /api/auth/logout"))
        {
            var (method, path) = Split(route);
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(Fill(path).TrimStart('/'), UriKind.Relative));
            if (method != "GET")
            {
                request.Headers.Add("X-CSRF-TOKEN", await GatewayHost.CsrfAsync(client));
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var status = (int)response.StatusCode;
            var allowed = Allowed(Access[route], role, demo);
            var denial = !path.StartsWith("/api", StringComparison.Ordinal) && role == "anonymous"
                ? status == 302 && response.Headers.Location?.OriginalString.Contains("/login", StringComparison.Ordinal) == true
                : status == (role == "anonymous" ? 401 : 403);
            var ok = allowed ? status is not (401 or 403) and < 500 && !(status == 302 && response.Headers.Location?.OriginalString.Contains("/login", StringComparison.Ordinal) == true) : denial;
            if (!ok)
            {
                failures.Add($"{route} as {role}{(demo ? " (demo)" : "")}: {status}, expected {(allowed ? "allowed" : "denied")}");
            }
        }

        return failures;
    }

    private static bool Allowed(Who who, string role, bool demo) => who switch
    {
        Who.Anyone => true,
        Who.Read => role != "anonymous" || demo,
        Who.Nurse => role is "nurse" or "admin",
        _ => role == "admin",
    };

    private static async Task<HashSet<string>> RoutesAsync(HttpClient admin)
    {
        using var doc = JsonDocument.Parse(await admin.GetStringAsync(new Uri("openapi/v1.json", UriKind.Relative)));
        var routes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in doc.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "delete" or "patch"))
            {
                var normalized = path.Name.Length > 1 ? path.Name.TrimEnd('/') : path.Name;
                routes.Add($"{operation.Name.ToUpperInvariant()} {normalized}");
            }
        }

        return routes;
    }

    private static (string Method, string Path) Split(string route) => (route[..route.IndexOf(' ', StringComparison.Ordinal)], route[(route.IndexOf(' ', StringComparison.Ordinal) + 1)..]);

    private static string Fill(string path) => path
        .Replace("{id}", "chair-1", StringComparison.Ordinal)
        .Replace("{rule}", "hr.low", StringComparison.Ordinal)
        .Replace("{name}", "nobody", StringComparison.Ordinal)
        .Replace("{profile}", "default%20adult", StringComparison.Ordinal)
        .Replace("{key}", "hr.delay", StringComparison.Ordinal)
        .Replace("{check}", "no-such-check", StringComparison.Ordinal);

    private static string Password(string role) => role + "-password-1";

    private static string UserServiceDemoPassword(string name) => UserService.DemoUsers.First(u => u.Name == name).Password;

    private static async Task CreateAsync(GatewayHost host, string name, string role)
    {
        using var created = await GatewayHost.SendAsync(host.Http, HttpMethod.Post, "api/users", new { name, role, password = Password(role) });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }
}
