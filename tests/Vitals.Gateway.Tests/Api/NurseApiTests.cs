using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Vitals.Gateway.Tests.Api;

public class NurseApiTests(ApiFixture f) : IClassFixture<ApiFixture>
{
    private static readonly HttpMethod Post = HttpMethod.Post;

    [Theory]
    [InlineData("POST", "api/chairs/chair-1/acknowledge")]
    [InlineData("POST", "api/chairs/chair-1/alarms/hr.low/acknowledge")]
    [InlineData("POST", "api/chairs/chair-1/pause")]
    [InlineData("POST", "api/chairs/chair-1/resume")]
    [InlineData("POST", "api/pause")]
    [InlineData("POST", "api/resume")]
    [InlineData("POST", "api/chairs/chair-1/session")]
    [InlineData("DELETE", "api/chairs/chair-1/session")]
    [InlineData("POST", "api/chairs/chair-1/baseline")]
    [InlineData("POST", "api/chairs/chair-1/checks/patellar_reflex/confirm")]
    public async Task NurseActions_AnonymousOrViewer_401Or403(string method, string path)
    {
        using var anonymous = await GatewayHost.SendAsync(f.Anonymous, new HttpMethod(method), path, new { });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var viewer = await GatewayHost.SendAsync(f.Viewer, new HttpMethod(method), path, new { });
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
    }

    [Theory]
    [InlineData("api/chair-status")]
    [InlineData("api/chairs/chair-1/status")]
    [InlineData("api/chairs/chair-1/baseline")]
    public async Task StatusReads_AnonymousOutsideDemo_401_ViewerAllowed(string path)
    {
        using var anonymous = await f.Anonymous.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var viewer = await f.Viewer.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, viewer.StatusCode);
    }

    [Fact]
    public async Task Pause_WithoutAntiforgeryToken_400()
    {
        using var response = await f.Nurse.PostAsync(new Uri("api/chairs/chair-2/pause", UriKind.Relative), JsonContent(new { seconds = 30 }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("antiforgery", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(100_000)]
    public async Task Pause_BadSeconds_400NamingSeconds(int seconds)
    {
        using var response = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/pause", new { seconds });
        await ApiFixture.AssertFieldErrorAsync(response, "seconds");
    }

    [Fact]
    public async Task Pause_UnknownChair_404()
    {
        using var response = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/nope/pause", new { seconds = 30 });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task PauseChair_LongRequest_CappedAt2Minutes_CountdownInStatus_Audited_ThenResume()
    {
        using var paused = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/pause", new { seconds = 600 });
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        var body = await ApiFixture.JsonAsync(paused);
        Assert.Equal(120, body.GetProperty("remainingSeconds").GetInt32());

        var status = await f.GetJsonAsync(f.Viewer, "api/chairs/chair-2/status");
        Assert.InRange(status.GetProperty("pauseRemainingSeconds").GetInt32(), 110, 120);
        await f.AuditWhenAsync(
            "type=audit&chair=chair-2&user=nurse1", a => a.Any(e => e.GetProperty("summary").GetString() == "audio.paused: 120 s"), "the pause in the audit log");

        using var resumed = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/resume");
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Equal(0, (await ApiFixture.JsonAsync(resumed)).GetProperty("remainingSeconds").GetInt32());
        Assert.Equal(0, (await f.GetJsonAsync(f.Viewer, "api/chairs/chair-2/status")).GetProperty("pauseRemainingSeconds").GetInt32());
    }

    [Fact]
    public async Task PauseAll_ThenResumeAll_EveryChairPausedThenResumed_BothAuditedForAllChairs()
    {
        using var paused = await GatewayHost.SendAsync(f.Admin, Post, "api/pause", new { seconds = 30 });
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        var body = await ApiFixture.JsonAsync(paused);
        Assert.Equal("*", body.GetProperty("chair").GetString());
        Assert.Equal(30, body.GetProperty("remainingSeconds").GetInt32());
        foreach (var chair in new[] { "chair-1", "chair-2" })
        {
            var status = await f.GetJsonAsync(f.Viewer, $"api/chairs/{chair}/status");
            Assert.InRange(status.GetProperty("pauseRemainingSeconds").GetInt32(), 1, 30);
        }

        // A reloaded page reads the pause in force (any reader, the wall display too).
        var inForce = await f.GetJsonAsync(f.Viewer, "api/pause");
        Assert.Equal("*", inForce.GetProperty("chair").GetString());
        Assert.InRange(inForce.GetProperty("remainingSeconds").GetInt32(), 1, 30);

        using var resumed = await GatewayHost.SendAsync(f.Admin, Post, "api/resume");
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Equal(0, (await f.GetJsonAsync(f.Viewer, "api/pause")).GetProperty("remainingSeconds").GetInt32());
        foreach (var chair in new[] { "chair-1", "chair-2" })
        {
            Assert.Equal(0, (await f.GetJsonAsync(f.Viewer, $"api/chairs/{chair}/status")).GetProperty("pauseRemainingSeconds").GetInt32());
        }

        // Newest first: the resume, then the pause, both by admin and for all chairs ("*"). The audit entries reach the
        // store through the alarm dispatcher's queue, after the answer, so the test waits for them.
        var audit = await f.AuditWhenAsync("type=audit&chair=*&user=admin", a => a.Count >= 2, "the pause and the resume in the audit log");
        Assert.Equal(["audio.resumed", "audio.paused: 30 s"], audit.Take(2).Select(e => e.GetProperty("summary").GetString()));
        Assert.All(audit.Take(2), e => Assert.Equal("*", e.GetProperty("chair").GetString()));
    }

    [Fact]
    public async Task Pause_PushesStatusEventToDashboards()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await using var stream = await f.Viewer.GetStreamAsync(new Uri("api/stream", UriKind.Relative), cts.Token);
        var events = SseParser.Create(stream).EnumerateAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal("snapshot", events.Current.EventType);

        using var paused = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/pause", new { seconds = 20 });
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        JsonElement? status = null;
        while (status is null && await events.MoveNextAsync())
        {
            if (events.Current.EventType == "status")
            {
                var e = JsonDocument.Parse(events.Current.Data).RootElement.Clone();
                if (e.GetProperty("chair").GetString() == "chair-2")
                {
                    status = e;
                }
            }
        }

        Assert.NotNull(status);
        Assert.InRange(status.Value.GetProperty("pauseRemainingSeconds").GetInt32(), 15, 20);
        await events.DisposeAsync();
        (await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/resume")).Dispose();
    }

    [Fact]
    public async Task Acknowledge_BradycardiaAlarm_SilencedAndAudited()
    {
        // The bradycardia chair runs 60x: its HR low alarm is raised within seconds.
        await Eventually.TrueAsync(async () =>
            (await f.GetJsonAsync(f.Nurse, "api/chairs/chair-1/status")).GetProperty("alarms").EnumerateArray()
                .Any(a => a.GetProperty("rule").GetString() == "hr.low"), "the chair-1 HR low alarm");

        using var response = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-1/alarms/hr.low/acknowledge");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ApiFixture.JsonAsync(response);
        var alarm = body.GetProperty("status").GetProperty("alarms").EnumerateArray().FirstOrDefault(a => a.GetProperty("rule").GetString() == "hr.low");

        // The scenario holds HR near 42 from its 12th minute on, so the condition persists: acknowledged, not cleared.
        Assert.Equal(JsonValueKind.Object, alarm.ValueKind);
        Assert.True(alarm.GetProperty("acknowledged").GetBoolean());
        Assert.Equal("nurse1", alarm.GetProperty("acknowledgedBy").GetString());

        await f.AuditWhenAsync(
            "type=audit&chair=chair-1&user=nurse1", a => a.Any(e => e.GetProperty("summary").GetString() == "alarm.acknowledged: hr.low"), "the acknowledgement in the audit log");
        await f.AuditWhenAsync(
            "type=alarm&chair=chair-1&user=nurse1", a => a.Any(e => e.GetProperty("data").GetProperty("state").GetString() == "acknowledged"), "the acknowledged transition in the event log");
    }

    [Fact]
    public async Task Acknowledge_UnknownRule_404_UnknownChair_404()
    {
        using var rule = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/alarms/no.such/acknowledge");
        Assert.Equal(HttpStatusCode.NotFound, rule.StatusCode);
        using var chair = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/nope/acknowledge");
        Assert.Equal(HttpStatusCode.NotFound, chair.StatusCode);
    }

    [Fact]
    public async Task AcknowledgeChair_WithActiveAlarm_ReturnsItsCountAndAcknowledgedStatus_NothingLeftToAcknowledge()
    {
        // The stable chair (HR ~64-80) alarms once its HR low limit is raised above its rate.
        using (var limit = await GatewayHost.SendAsync(f.Admin, HttpMethod.Put, "api/admin/chairs/chair-2/overrides/hr.low.medium", new { value = 100 }))
        {
            Assert.Equal(HttpStatusCode.OK, limit.StatusCode);
        }

        try
        {
            await Eventually.TrueAsync(
                async () => Unacknowledged(await f.GetJsonAsync(f.Nurse, "api/chairs/chair-2/status")).Contains("hr.low"), "the chair-2 HR low alarm");

            using var response = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/acknowledge");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await ApiFixture.JsonAsync(response);
            var status = body.GetProperty("status");
            Assert.Equal("chair-2", status.GetProperty("chair").GetString());
            var acknowledgedByNurse = status.GetProperty("alarms").EnumerateArray()
                .Where(a => a.GetProperty("acknowledged").GetBoolean() && a.GetProperty("acknowledgedBy").GetString() == "nurse1")
                .Select(a => a.GetProperty("rule").GetString()).ToList();
            Assert.Contains("hr.low", acknowledgedByNurse);
            Assert.Equal(acknowledgedByNurse.Count, body.GetProperty("acknowledged").GetInt32());
            Assert.Empty(Unacknowledged(status));

            // A second acknowledgement finds nothing left.
            using var again = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/acknowledge");
            Assert.Equal(0, (await ApiFixture.JsonAsync(again)).GetProperty("acknowledged").GetInt32());
        }
        finally
        {
            // A null value removes the override.
            (await GatewayHost.SendAsync(f.Admin, HttpMethod.Put, "api/admin/chairs/chair-2/overrides/hr.low.medium", new { value = (double?)null })).Dispose();
        }
    }

    private static List<string?> Unacknowledged(JsonElement status) =>
        [.. status.GetProperty("alarms").EnumerateArray().Where(a => !a.GetProperty("acknowledged").GetBoolean()).Select(a => a.GetProperty("rule").GetString())];

    [Theory]
    [InlineData("Jane Doe", "magnesium sulfate", null, "patientPseudonym")]
    [InlineData("", "magnesium sulfate", null, "patientPseudonym")]
    [InlineData("P-123", "", null, "drug")]
    [InlineData("P-123", "magnesium sulfate", -1.0, "rateGramsPerHour")]
    public async Task StartSession_BadInput_400NamingField(string pseudonym, string drug, double? rate, string field)
    {
        using var response = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/session",
            new { patientPseudonym = pseudonym, drug, rateGramsPerHour = rate });
        await ApiFixture.AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task StartSession_UnknownProfile_400NamingProfile()
    {
        using var response = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/session",
            new { patientPseudonym = "P-1", drug = "saline", profile = "nope" });
        await ApiFixture.AssertFieldErrorAsync(response, "profile");
    }

    [Fact]
    public async Task Session_MagnesiumAboveMaxRate_Warns_Baseline_Checks_Stop()
    {
        // Baseline with no session is a conflict, not a confirmation.
        using (var none = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/baseline", new { }))
        {
            Assert.Equal(HttpStatusCode.Conflict, none.StatusCode);
        }

        using var started = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/session",
            new { patientPseudonym = "P-7731", drug = "magnesium sulfate", doseGrams = 4.0, rateGramsPerHour = 4.0, bolusGrams = 4.0, bolusMinutes = 20.0 });
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var body = await ApiFixture.JsonAsync(started);
        Assert.Contains(body.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("exceeds the configured maximum 3 g/h", StringComparison.Ordinal));
        Assert.Equal("P-7731", body.GetProperty("session").GetProperty("patientPseudonym").GetString());
        var status = body.GetProperty("status");
        Assert.NotEqual("no_session", status.GetProperty("baseline").GetProperty("state").GetString());
        Assert.Contains(status.GetProperty("checksDue").EnumerateArray(), c => c.GetProperty("checkId").GetString() == "patellar_reflex");

        using (var again = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/session", new { patientPseudonym = "P-2", drug = "saline" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        using (var bad = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/baseline", new { sys = 900.0 }))
        {
            await ApiFixture.AssertFieldErrorAsync(bad, "sys");
        }

        using (var baseline = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/baseline", new { sys = 120.0, dia = 75.0, map = 90.0, hr = 72.0, rr = 16.0 }))
        {
            Assert.Equal(HttpStatusCode.OK, baseline.StatusCode);
            var b = (await ApiFixture.JsonAsync(baseline)).GetProperty("baseline");
            Assert.Equal("confirmed", b.GetProperty("state").GetString());
            Assert.Equal("nurse1", b.GetProperty("baseline").GetProperty("confirmedBy").GetString());
        }

        using (var check = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/checks/patellar_reflex/confirm"))
        {
            Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        }

        using (var unknown = await GatewayHost.SendAsync(f.Nurse, Post, "api/chairs/chair-2/checks/no_such/confirm"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using (var stopped = await GatewayHost.SendAsync(f.Nurse, HttpMethod.Delete, "api/chairs/chair-2/session"))
        {
            Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
            Assert.Equal("no_session", (await ApiFixture.JsonAsync(stopped)).GetProperty("status").GetProperty("baseline").GetProperty("state").GetString());
        }

        using (var twice = await GatewayHost.SendAsync(f.Nurse, HttpMethod.Delete, "api/chairs/chair-2/session"))
        {
            Assert.Equal(HttpStatusCode.NotFound, twice.StatusCode);
        }

        var audit = await f.AuditWhenAsync(
            "type=audit&chair=chair-2&user=nurse1", a => a.Any(e => e.GetProperty("data").GetProperty("action").GetString() == "session.stopped"), "the session's actions in the audit log");
        var actions = audit.Select(e => e.GetProperty("data").GetProperty("action").GetString()).ToList();
        Assert.Contains("session.started", actions);
        Assert.Contains("baseline.confirmed", actions);
        Assert.Contains("check.confirmed", actions);
        Assert.Contains("session.stopped", actions);

        // The pseudonym is not written to the audit log.
        Assert.DoesNotContain(audit, e => e.GetProperty("data").GetRawText().Contains("P-7731", StringComparison.Ordinal));
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
