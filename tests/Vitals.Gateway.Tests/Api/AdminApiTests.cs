using System.Net;

namespace Vitals.Gateway.Tests.Api;

public class AdminApiTests(ApiFixture f) : IClassFixture<ApiFixture>
{
    private static readonly HttpMethod Put = HttpMethod.Put;

    [Theory]
    [InlineData("GET", "api/admin/config")]
    [InlineData("GET", "api/admin/audit")]
    [InlineData("GET", "api/admin/bindings")]
    [InlineData("GET", "api/admin/kiosk")]
    [InlineData("POST", "api/admin/kiosk")]
    [InlineData("PUT", "api/admin/profiles/default adult/values/hr.low.medium")]
    [InlineData("PUT", "api/admin/chairs/chair-1/overrides/hr.low.medium")]
    [InlineData("PUT", "api/admin/chairs/chair-1/profile")]
    [InlineData("PUT", "api/admin/timing/pause_max")]
    [InlineData("GET", "api/users")]
    public async Task AdminApis_Anonymous401_Nurse403_Viewer403(string method, string path)
    {
        using var anonymous = await GatewayHost.SendAsync(f.Anonymous, new HttpMethod(method), path, new { value = 1 });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var nurse = await GatewayHost.SendAsync(f.Nurse, new HttpMethod(method), path, new { value = 1 });
        Assert.Equal(HttpStatusCode.Forbidden, nurse.StatusCode);
        using var viewer = await GatewayHost.SendAsync(f.Viewer, new HttpMethod(method), path, new { value = 1 });
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
    }

    [Fact]
    public async Task AdminPage_Nurse403_Anonymous_RedirectedToLogin_Admin200()
    {
        using var nurse = await f.Nurse.GetAsync(new Uri("admin", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, nurse.StatusCode);
        using var anonymous = await f.Anonymous.GetAsync(new Uri("admin", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login", anonymous.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        using var admin = await f.Admin.GetAsync(new Uri("admin", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("bedside monitor", await admin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChairPage_Viewer200_UnknownChair404()
    {
        using var page = await f.Viewer.GetAsync(new Uri("chairs/chair-1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        using var missing = await f.Viewer.GetAsync(new Uri("chairs/nope", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Config_Admin_ListsProfilesChairsAndTiming()
    {
        var config = await f.GetJsonAsync(f.Admin, "api/admin/config");
        var adult = config.GetProperty("profiles").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "default adult");
        Assert.Equal(50, adult.GetProperty("values").GetProperty("hr.low.medium").GetDouble());
        Assert.Equal(10, adult.GetProperty("values").GetProperty("hr.delay").GetDouble());
        Assert.Contains(config.GetProperty("profiles").EnumerateArray(), p => p.GetProperty("name").GetString() == "MgSO4 infusion");
        Assert.Equal(120, config.GetProperty("timing").GetProperty("pause_max").GetDouble());
        Assert.Equal(2, config.GetProperty("chairs").GetArrayLength());
        Assert.True(config.GetProperty("version").GetInt64() >= 0);
    }

    [Theory]
    [InlineData("hr.low.medium", 130.0)]
    [InlineData("hr.low.medium", -5.0)]
    [InlineData("spo2.low.medium", 101.0)]
    [InlineData("hr.bogus.medium", 50.0)]
    public async Task ProfileValue_Invalid_400KeyedByConfigKey(string key, double value)
    {
        using var response = await GatewayHost.SendAsync(f.Admin, Put, $"api/admin/profiles/default adult/values/{key}", new { value });
        await ApiFixture.AssertFieldErrorAsync(response, key);
    }

    [Fact]
    public async Task ProfileValue_UnknownProfile_404()
    {
        using var response = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/profiles/nope/values/hr.low.medium", new { value = 45 });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ProfileValue_Valid_AppliedVersionedAndAudited()
    {
        var before = (await f.GetJsonAsync(f.Admin, "api/admin/config")).GetProperty("version").GetInt64();
        using var response = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/profiles/MgSO4 infusion/values/temp.high.low", new { value = 38.2 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var change = await ApiFixture.JsonAsync(response);
        Assert.Equal("38", change.GetProperty("oldValue").GetString());
        Assert.Equal("38.2", change.GetProperty("newValue").GetString());
        Assert.Equal("admin", change.GetProperty("user").GetString());
        Assert.True(change.GetProperty("version").GetInt64() > before);

        var audit = await f.AuditAsync("type=alarm-config&user=admin");
        Assert.Contains(audit, e => e.GetProperty("summary").GetString() == "profile MgSO4 infusion: temp.high.low 38 -> 38.2");
    }

    [Fact]
    public async Task ChairOverride_InvalidThenValidThenRemoved()
    {
        using (var bad = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/chairs/chair-2/overrides/nibp_sys.low.medium", new { value = 200 }))
        {
            await ApiFixture.AssertFieldErrorAsync(bad, "nibp_sys.low.medium");
        }

        using (var ok = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/chairs/chair-2/overrides/nibp_sys.low.medium", new { value = 95 }))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("95", (await ApiFixture.JsonAsync(ok)).GetProperty("newValue").GetString());
        }

        var chair = (await f.GetJsonAsync(f.Admin, "api/admin/config")).GetProperty("chairs").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "chair-2");
        Assert.Equal(95, chair.GetProperty("overrides").GetProperty("nibp_sys.low.medium").GetDouble());

        using (var removed = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/chairs/chair-2/overrides/nibp_sys.low.medium", new { value = (double?)null }))
        {
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        }

        chair = (await f.GetJsonAsync(f.Admin, "api/admin/config")).GetProperty("chairs").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "chair-2");
        Assert.False(chair.GetProperty("overrides").TryGetProperty("nibp_sys.low.medium", out _));

        using var unknownChair = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/chairs/nope/overrides/hr.low.medium", new { value = 45 });
        Assert.Equal(HttpStatusCode.NotFound, unknownChair.StatusCode);
    }

    [Fact]
    public async Task ChairOverride_LowAboveHigh_ErrorKeyedByTheEditedKeyInPlainNamesAndUnits()
    {
        const string High = "api/admin/chairs/chair-1/overrides/nibp_sys.high.medium";
        using (var high = await GatewayHost.SendAsync(f.Admin, Put, High, new { value = 160 }))
        {
            Assert.Equal(HttpStatusCode.OK, high.StatusCode);
        }

        try
        {
            using var bad = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/chairs/chair-1/overrides/nibp_sys.low.medium", new { value = 170 });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var errors = (await ApiFixture.JsonAsync(bad)).GetProperty("errors");
            var message = Assert.Single(errors.GetProperty("nibp_sys.low.medium").EnumerateArray()).GetString()!;
            Assert.Equal("NIBP systolic: low (medium) 170 mmHg must be below high (medium) 160 mmHg", message);
            Assert.DoesNotContain("nibp_sys", message, StringComparison.Ordinal);

            using var badTiming = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/timing/signal_lost", new { value = 900 });
            var timing = (await ApiFixture.JsonAsync(badTiming)).GetProperty("errors").GetProperty("signal_lost")[0].GetString()!;
            Assert.StartsWith("Signal lost", timing, StringComparison.Ordinal);
            Assert.DoesNotContain("signal_lost", timing, StringComparison.Ordinal);
        }
        finally
        {
            using var reset = await GatewayHost.SendAsync(f.Admin, Put, High, new { value = (double?)null });
        }
    }

    [Fact]
    public async Task ChairProfile_UnknownIs400_ValidSetAndReset()
    {
        using (var bad = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/chairs/chair-2/profile", new { profile = "nope" }))
        {
            await ApiFixture.AssertFieldErrorAsync(bad, "profile");
        }

        using (var ok = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/chairs/chair-2/profile", new { profile = "MgSO4 infusion" }))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var chair = (await f.GetJsonAsync(f.Admin, "api/admin/config")).GetProperty("chairs").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "chair-2");
        Assert.Equal("MgSO4 infusion", chair.GetProperty("profile").GetString());
        using var reset = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/chairs/chair-2/profile", new { profile = (string?)null });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
    }

    [Theory]
    [InlineData("pause_max", 500.0)]
    [InlineData("reannounce", 10.0)]
    [InlineData("no_such_key", 10.0)]
    public async Task Timing_Invalid_400KeyedByKey(string key, double value)
    {
        using var response = await GatewayHost.SendAsync(f.Admin, Put, $"api/admin/timing/{key}", new { value });
        await ApiFixture.AssertFieldErrorAsync(response, key);
    }

    [Fact]
    public async Task Timing_MissingValue_400_Valid_200()
    {
        using (var missing = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/timing/reannounce", new { }))
        {
            await ApiFixture.AssertFieldErrorAsync(missing, "reannounce");
        }

        using var ok = await GatewayHost.SendAsync(f.Admin, Put, "api/admin/timing/reannounce", new { value = 150 });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(150, (await f.GetJsonAsync(f.Admin, "api/admin/config")).GetProperty("timing").GetProperty("reannounce").GetDouble());
        (await GatewayHost.SendAsync(f.Admin, Put, "api/admin/timing/reannounce", new { value = 120 })).Dispose();
    }

    [Theory]
    [InlineData("type=bogus", "type")]
    [InlineData("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("limit=0", "limit")]
    public async Task Audit_BadFilter_400NamingField(string query, string field)
    {
        using var response = await f.Admin.GetAsync(new Uri("api/admin/audit?" + query, UriKind.Relative));
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task Audit_Filters_ByTypeUserAndTime()
    {
        var all = await f.AuditAsync("limit=1000");
        Assert.Contains(all, e => e.GetProperty("type").GetString() == "audit" && e.GetProperty("summary").GetString()!.StartsWith("user.created", StringComparison.Ordinal));
        Assert.All(all, e => Assert.Contains(e.GetProperty("type").GetString(), new[] { "audit", "alarm-config", "alarm" }));

        var logins = await f.AuditAsync("type=audit&user=nurse1");
        Assert.NotEmpty(logins);
        Assert.All(logins, e => Assert.Equal("nurse1", e.GetProperty("user").GetString()));

        var future = await f.AuditAsync("from=2100-01-01T00:00:00Z");
        Assert.Empty(future);

        // Newest first.
        var times = all.Select(e => e.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);
    }

    [Fact]
    public async Task Bindings_ListChairsWithDevices()
    {
        var bindings = await f.GetJsonAsync(f.Admin, "api/admin/bindings");
        var first = bindings[0];
        Assert.Equal("chair-1", first.GetProperty("chair").GetString());
        Assert.Equal("sim-1", first.GetProperty("devices")[0].GetProperty("id").GetString());
        Assert.Equal("simulator", first.GetProperty("devices")[0].GetProperty("kind").GetString());
    }

    [Fact]
    public async Task OpenApi_DocumentsNurseAndAdminEndpointsWithRoles()
    {
        var doc = await f.GetJsonAsync(f.Viewer, "openapi/v1.json");
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/api/chairs/{id}/pause", "/api/chairs/{id}/session", "/api/admin/config", "/api/admin/audit", "/api/users", "/api/auth/login", "/api/chairs/{id}/history" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI should document {path}");
        }

        var pause = paths.GetProperty("/api/chairs/{id}/pause").GetProperty("post").GetProperty("description").GetString();
        Assert.StartsWith("Roles: nurse, admin.", pause, StringComparison.Ordinal);
        Assert.Contains("X-CSRF-TOKEN", pause, StringComparison.Ordinal);
        var config = paths.GetProperty("/api/admin/config").GetProperty("get").GetProperty("description").GetString();
        Assert.StartsWith("Roles: admin.", config, StringComparison.Ordinal);
        // Outside demo mode the document needs a login like every page (anonymous callers are sent to /login).
        using var anonymous = await f.Anonymous.GetAsync(new Uri("openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
    }

    [Fact]
    public async Task Kiosk_EnabledToken_SignsInAsViewer_WrongToken401_Disable()
    {
        using var enabled = await GatewayHost.SendAsync(f.Admin, HttpMethod.Post, "api/admin/kiosk");
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        var token = (await ApiFixture.JsonAsync(enabled)).GetProperty("token").GetString()!;
        Assert.Equal(48, token.Length);

        using var wall = f.Host.NewClient();
        using (var wrong = await wall.GetAsync(new Uri("kiosk?token=" + new string('0', 48), UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using (var ok = await wall.GetAsync(new Uri("kiosk?token=" + token, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        }

        var me = await f.GetJsonAsync(wall, "api/auth/me");
        Assert.Equal("viewer", me.GetProperty("role").GetString());
        using (var admin = await wall.GetAsync(new Uri("api/admin/config", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        }

        var state = await f.GetJsonAsync(f.Admin, "api/admin/kiosk");
        Assert.True(state.GetProperty("enabled").GetBoolean());
        Assert.False(state.TryGetProperty("token", out _));
        using var disabled = await GatewayHost.SendAsync(f.Admin, HttpMethod.Delete, "api/admin/kiosk");
        Assert.Equal(HttpStatusCode.NoContent, disabled.StatusCode);
        using var again = f.Host.NewClient();
        using var refused = await again.GetAsync(new Uri("kiosk?token=" + token, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
