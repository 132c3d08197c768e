using System.Net;

namespace Vitals.Gateway.Tests.Api;

/// <summary>
/// A session cookie stops working the moment its account changes, it logs out, or its kiosk link is revoked; the
/// cookies are replayed raw, as a thief holding a copy would.
/// </summary>
public sealed class SessionRevocationTests : IAsyncLifetime
{
    private const string Password = "temporary-admin-1";
    private GatewayHost host = null!;

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromSeconds(1));

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Theory]
    [InlineData("demote")]
    [InlineData("disable")]
    [InlineData("delete")]
    [InlineData("password")]
    public async Task AccountChange_EndsItsSessionsAtOnce(string change)
    {
        var name = "tmp" + change;
        using (var created = await GatewayHost.SendAsync(host.Http, HttpMethod.Post, "api/users", new { name, role = "admin", password = Password }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var cookie = await SignInAsync(name, Password);
        using (var stolen = Replay(cookie))
        {
            Assert.Equal(HttpStatusCode.OK, (await stolen.GetAsync(new Uri("api/admin/config", UriKind.Relative))).StatusCode);
        }

        using var done = change switch
        {
            "demote" => await GatewayHost.SendAsync(host.Http, HttpMethod.Put, $"api/users/{name}", new { role = "viewer" }),
            "disable" => await GatewayHost.SendAsync(host.Http, HttpMethod.Put, $"api/users/{name}", new { disabled = true }),
            "password" => await GatewayHost.SendAsync(host.Http, HttpMethod.Put, $"api/users/{name}", new { password = "a-new-password-2" }),
            _ => await GatewayHost.SendAsync(host.Http, HttpMethod.Delete, $"api/users/{name}"),
        };
        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);

        using var replay = Replay(cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync(new Uri("api/admin/config", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync(new Uri("api/chairs", UriKind.Relative))).StatusCode);
        using var createAdmin = await ReplayPostAsync(cookie, "api/users", new { name = "evil", role = "admin", password = "evil-password-1" });
        Assert.Equal(HttpStatusCode.Unauthorized, createAdmin.StatusCode);
    }

    [Fact]
    public async Task Logout_ACopyOfTheCookieNoLongerWorks()
    {
        var cookie = await SignInAsync("admin", GatewayHost.AdminPassword);
        var other = await SignInAsync("admin", GatewayHost.AdminPassword);
        using (var logout = await ReplayPostAsync(cookie, "api/auth/logout", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

        using var replay = Replay(cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync(new Uri("api/chairs", UriKind.Relative))).StatusCode);

        // Only that session ended: the same user's session on another device goes on.
        using var second = Replay(other);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync(new Uri("api/chairs", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("POST")]
    public async Task KioskRevokedOrReissued_EndsKioskSessions(string method)
    {
        using var enabled = await GatewayHost.SendAsync(host.Http, HttpMethod.Post, "api/admin/kiosk");
        var token = (await ApiFixture.JsonAsync(enabled)).GetProperty("token").GetString();
        var jar = new CookieContainer();
        using (var kiosk = Client(jar))
        {
            using var signIn = await kiosk.GetAsync(new Uri($"kiosk?token={token}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await kiosk.GetAsync(new Uri("api/chairs", UriKind.Relative))).StatusCode);
        }

        var cookie = AuthCookie(jar);
        using (var revoke = await GatewayHost.SendAsync(host.Http, new HttpMethod(method), "api/admin/kiosk"))
        {
            Assert.True(revoke.IsSuccessStatusCode);
        }

        using var replay = Replay(cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync(new Uri("api/chairs", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Cookie_HttpOnlySameSiteStrict_NotSecureOverPlainHttp()
    {
        using var client = host.NewClient();
        using var login = await GatewayHost.SendAsync(client, HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith("vitals.auth=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie.Replace("samesite", "", StringComparison.OrdinalIgnoreCase), StringComparison.OrdinalIgnoreCase);
    }

    private async Task<string> SignInAsync(string name, string password)
    {
        var jar = new CookieContainer();
        using var client = Client(jar);
        await host.LoginAsync(client, name, password);
        return AuthCookie(jar);
    }

    private string AuthCookie(CookieContainer jar) => jar.GetCookies(host.Address)["vitals.auth"]!.Value;

    private HttpClient Client(CookieContainer jar) =>
        new(new HttpClientHandler { CookieContainer = jar, AllowAutoRedirect = false }) { BaseAddress = host.Address };

    /// <summary>A client that sends the given auth cookie on every request, whatever the server answers.</summary>
    private HttpClient Replay(string authCookie)
    {
        var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = host.Address };
        client.DefaultRequestHeaders.Add("Cookie", $"vitals.auth={authCookie}");
        return client;
    }

    /// <summary>A POST with the replayed cookie and a fresh antiforgery token fetched with it, as a page holding the cookie would send.</summary>
    private async Task<HttpResponseMessage> ReplayPostAsync(string authCookie, string path, object? body)
    {
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = host.Address };
        using var csrfRequest = new HttpRequestMessage(HttpMethod.Get, new Uri("api/auth/csrf", UriKind.Relative));
        csrfRequest.Headers.Add("Cookie", $"vitals.auth={authCookie}");
        using var csrf = await client.SendAsync(csrfRequest);
        var token = (await ApiFixture.JsonAsync(csrf)).GetProperty("token").GetString()!;
        var csrfCookie = csrf.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("vitals.csrf=", StringComparison.Ordinal)).Split(';')[0];
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
        {
            Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body),
        };
        request.Headers.Add("Cookie", $"vitals.auth={authCookie}; {csrfCookie}");
        request.Headers.Add("X-CSRF-TOKEN", token);
        return await client.SendAsync(request);
    }
}
