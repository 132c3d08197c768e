using System.Net;
using System.Text.Json;
using Vitals.Gateway.Config;

namespace Vitals.Gateway.Tests.Api;

/// <summary>
/// One non-demo gateway shared by the API tests of a class: chair-1 bradycardia at high speed (an HR alarm within
/// seconds), chair-2 stable; clients signed in as admin, nurse and viewer, and one anonymous.
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public const string NursePassword = "nurse-password-1";
    public const string ViewerPassword = "viewer-password-1";

    public GatewayHost Host { get; private set; } = null!;

    public HttpClient Admin => Host.Http;

    public HttpClient Nurse { get; private set; } = null!;

    public HttpClient Viewer { get; private set; } = null!;

    public HttpClient Anonymous { get; private set; } = null!;

    public static GatewayOptions Options() => new()
    {
        Site = "api-test",
        Chairs =
        [
            new ChairOptions { Id = "chair-1", Name = "Chair 1", Devices = [new DeviceOptions { Id = "sim-1", Scenario = "bradycardia", Seed = 3, TimeScale = 60 }] },
            new ChairOptions { Id = "chair-2", Name = "Chair 2", Devices = [new DeviceOptions { Id = "sim-2", Scenario = "stable", Seed = 4, TimeScale = 1 }] },
        ],
    };

    public async Task InitializeAsync()
    {
        Host = await GatewayHost.StartAsync(Options(), TimeSpan.FromMilliseconds(50));
        foreach (var (name, role, password) in new[] { ("nurse1", "nurse", NursePassword), ("wall1", "viewer", ViewerPassword) })
        {
            var created = await GatewayHost.SendAsync(Admin, HttpMethod.Post, "api/users", new { name, role, password });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Nurse = Host.NewClient();
        await Host.LoginAsync(Nurse, "nurse1", NursePassword);
        Viewer = Host.NewClient();
        await Host.LoginAsync(Viewer, "wall1", ViewerPassword);
        Anonymous = Host.NewClient();
    }

    public async Task DisposeAsync()
    {
        Nurse.Dispose();
        Viewer.Dispose();
        Anonymous.Dispose();
        await Host.DisposeAsync();
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await JsonAsync(response);
    }

    /// <summary>Asserts a 400 validation problem whose errors name <paramref name="field"/>.</summary>
    public static async Task AssertFieldErrorAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"errors should name '{field}': {body}");
    }

    /// <summary>The audit entries (newest first) matching a query string.</summary>
    public async Task<List<JsonElement>> AuditAsync(string query) =>
        [.. (await GetJsonAsync(Admin, "api/admin/audit?" + query)).EnumerateArray()];

    /// <summary>
    /// The audit entries matching a query once they include what <paramref name="until"/> looks for: a nurse action's
    /// entry reaches the store through the alarm dispatcher's queue after the action has answered.
    /// </summary>
    public Task<List<JsonElement>> AuditWhenAsync(string query, Func<List<JsonElement>, bool> until, string what) =>
        Eventually.ValueAsync(async () => await AuditAsync(query) is var entries && until(entries) ? entries : null, what);
}
