using System.Net;
using System.Text;
using System.Text.Json;
using Vitals.Gateway.Api;

namespace Vitals.Gateway.Tests.Api;

/// <summary>Holes found when the web app was tried as an attacker (issue 13), each tried again here.</summary>
public sealed class SecurityApiTests(ApiFixture fx) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Events_AuditAndConfigTypes_AdminOnly()
    {
        var audit = await fx.GetJsonAsync(fx.Admin, "api/events?type=audit");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("type").GetString() == "audit");

        foreach (var client in new[] { fx.Nurse, fx.Viewer })
        {
            foreach (var type in new[] { "audit", "alarm-config" })
            {
                using var refused = await client.GetAsync(new Uri($"api/events?type={type}", UriKind.Relative));
                await ApiFixture.AssertFieldErrorAsync(refused, "type");
            }

            // chair-1's bradycardia raises alarms within seconds; wait for them, so the untyped read has something to filter.
            var all = default(JsonElement);
            await Eventually.TrueAsync(async () => (all = await fx.GetJsonAsync(client, "api/events?limit=1000")).GetArrayLength() > 0, "readable events in the log", TimeSpan.FromSeconds(30));
            Assert.All(all.EnumerateArray(), e => Assert.Contains(e.GetProperty("type").GetString(), VitalsApi.ReadableEventTypes));
        }

        using var anonymous = await fx.Anonymous.GetAsync(new Uri("api/events?type=audit", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task History_MinutesOverflow_Is400NamingMinutes()
    {
        using var overflow = await fx.Viewer.GetAsync(new Uri("api/chairs/chair-1/history?minutes=2147483647", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, overflow.StatusCode);
        Assert.Contains("minutes", await overflow.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var wrongType = await fx.Viewer.GetAsync(new Uri("api/chairs/chair-1/history?minutes=lots", UriKind.Relative));
        await ApiFixture.AssertFieldErrorAsync(wrongType, "minutes");
    }

    // Every query parameter bound by parsing: a value of the wrong type is a 400 naming it, from whichever request
    // delegate (generated at build time or built at run time) binds the endpoint.
    [Theory]
    [InlineData("api/chairs/chair-1/history?points=many", "points")]
    [InlineData("api/chairs/chair-1/history?from=yesterday", "from")]
    [InlineData("api/chairs/chair-1/history?from=2026-01-01T00:00:00Z&to=later", "to")]
    [InlineData("api/events?after=first", "after")]
    [InlineData("api/events?limit=1.5", "limit")]
    [InlineData("api/admin/audit?from=monday", "from")]
    [InlineData("api/admin/audit?limit=99999999999", "limit")]
    public async Task Query_WrongType_Is400NamingTheParameter(string path, string field)
    {
        using var response = await fx.Admin.GetAsync(new Uri(path, UriKind.Relative));
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Theory]
    [InlineData("api/admin/timing/reannounce", 1e308)]
    [InlineData("api/admin/timing/escalate_after", -1e300)]
    [InlineData("api/admin/profiles/default%20adult/values/hr.delay", 1e308)]
    [InlineData("api/admin/chairs/chair-2/overrides/hr.low.high", 1e308)]
    public async Task ConfigValue_Huge_Is400NotOverflow(string path, double value)
    {
        using var response = await GatewayHost.SendAsync(fx.Admin, HttpMethod.Put, path, new { value });
        await ApiFixture.AssertFieldErrorAsync(response, path.Split('/')[^1]);
    }

    [Theory]
    [InlineData("{\"value\": \"ten\"}", "value")]
    [InlineData("{\"value\": 5", "body")]
    [InlineData("[1, 2]", "body")]
    public async Task BadJsonBody_Is400ProblemNamingTheField(string body, string field)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri("api/admin/timing/reannounce", UriKind.Relative))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-CSRF-TOKEN", await GatewayHost.CsrfAsync(fx.Admin));
        using var response = await fx.Admin.SendAsync(request);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task Login_HugeBody_Is413_LongName_Is400_NeitherIsStored()
    {
        var huge = new string('x', 200 * 1024);
        using var tooLarge = await GatewayHost.SendAsync(fx.Anonymous, HttpMethod.Post, "api/auth/login", new { name = huge, password = "whatever" });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("body", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var longName = new string('y', 65);
        using var tooLong = await GatewayHost.SendAsync(fx.Anonymous, HttpMethod.Post, "api/auth/login", new { name = longName, password = "whatever" });
        await ApiFixture.AssertFieldErrorAsync(tooLong, "name");

        var stored = JsonSerializer.Serialize(await fx.AuditAsync("type=audit&limit=1000"));
        Assert.DoesNotContain("xxxxxxxx", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("yyyyyyyy", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_UnknownName_IsStoredOnlyPseudonymized()
    {
        const string typed = "Hunter2-typed-into-name";
        using var failed = await GatewayHost.SendAsync(fx.Anonymous, HttpMethod.Post, "api/auth/login", new { name = typed, password = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        var entries = await fx.AuditAsync("type=audit&limit=1000");
        Assert.DoesNotContain(typed, JsonSerializer.Serialize(entries), StringComparison.OrdinalIgnoreCase);
        var entry = entries.First(e => e.GetProperty("summary").GetString()!.StartsWith("login.failed", StringComparison.Ordinal));
        Assert.Matches("^unknown:[0-9a-f]{8}$", entry.GetProperty("user").GetString());
    }

    [Theory]
    [InlineData("/\\evil.example/x")]
    [InlineData("/\t/evil.example/x")]
    [InlineData("//evil.example/x")]
    [InlineData("http://evil.example/x")]
    [InlineData("/\r\n/evil.example")]
    public async Task LoginPage_NonLocalReturnUrl_IsDropped(string returnUrl)
    {
        Assert.False(WebPages.IsLocalUrl(returnUrl));
        using var page = await fx.Anonymous.GetAsync(new Uri("login?ReturnUrl=" + Uri.EscapeDataString(returnUrl), UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/login", page.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("/admin")]
    [InlineData("/chairs/chair-1?x=1")]
    [InlineData("/")]
    public async Task LoginPage_LocalReturnUrl_IsServed(string returnUrl)
    {
        Assert.True(WebPages.IsLocalUrl(returnUrl));
        using var page = await fx.Anonymous.GetAsync(new Uri("login?ReturnUrl=" + Uri.EscapeDataString(returnUrl), UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/login")]
    [InlineData("/admin")]
    [InlineData("/chairs/chair-1")]
    [InlineData("/app.js")]
    [InlineData("/app.css")]
    [InlineData("/api/chairs")]
    [InlineData("/healthz")]
    [InlineData("/no-such-page")]
    [InlineData("/openapi/v1.json")]
    public async Task EveryAnswer_CarriesTheSecurityHeaders(string path)
    {
        foreach (var client in new[] { fx.Anonymous, fx.Admin })
        {
            using var response = await client.GetAsync(new Uri(path.TrimStart('/'), UriKind.Relative));
            var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        }
    }

    [Fact]
    public async Task Pages_HaveNoInlineScriptOrStyle()
    {
        foreach (var page in new[] { "", "login", "admin", "chairs/chair-1" })
        {
            var html = await fx.Admin.GetStringAsync(new Uri(page, UriKind.Relative));
            Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)[^>]*>", html);
            Assert.DoesNotMatch("\\son[a-z]+\\s*=", html);
            Assert.DoesNotMatch("\\sstyle\\s*=|<style", html);
        }
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/proc/self/environ")]
    [InlineData("../../../../../../etc/passwd")]
    public async Task Bindings_LineConfigOutsideTheFolder_IsRefusedWithoutReadingIt(string file)
    {
        using var response = await GatewayHost.SendAsync(fx.Admin, HttpMethod.Put, "api/admin/chairs/chair-2/devices", new
        {
            devices = new[] { new { id = "line-2", kind = "serial", codec = "line", port = "/dev/ttyVITALS-none", lineConfig = file } },
        });
        var body = await response.Content.ReadAsStringAsync();
        await ApiFixture.AssertFieldErrorAsync(response, "devices[0].lineConfig");

        // Refused for where the file is, before reading it: no parser message that would quote its first byte or key.
        Assert.Contains("line-device folder", body, StringComparison.Ordinal);
        Assert.DoesNotContain("invalid", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Bindings_LineConfigInTheFolder_ErrorsNeverEchoItsContent()
    {
        var folder = Directory.CreateTempSubdirectory("vitals-lines-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "secret.json"), "Qsecret-value=hunter2\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "keys.json"), """{ "format": "keyValue", "fields": [ { "key": "Zq7", "sign": "hunter2sign" } ] }""");
            var options = GatewayHost.OneChair("stable", 1);
            options.BaseDirectory = folder;
            await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromSeconds(1));
            foreach (var file in new[] { "secret.json", "keys.json" })
            {
                using var response = await GatewayHost.SendAsync(host.Http, HttpMethod.Put, "api/admin/chairs/chair-1/devices", new
                {
                    devices = new[] { new { id = "line-1", kind = "serial", codec = "line", port = "/dev/ttyVITALS-none", lineConfig = file } },
                });
                var body = await response.Content.ReadAsStringAsync();
                await ApiFixture.AssertFieldErrorAsync(response, "devices[0].lineConfig");
                foreach (var content in new[] { "'Q'", "secret-value", "hunter2", "Zq7" })
                {
                    Assert.DoesNotContain(content, body, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
