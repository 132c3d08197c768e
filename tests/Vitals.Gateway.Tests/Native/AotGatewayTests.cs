using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Gateway.Tests.Api;
using Vitals.Gateway.Tests.Feeds;
using Vitals.Gateway.Tests.Mqtt;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Native;

/// <summary>
/// The published Native AOT binary, as a child process, through what a user reaches: start-up with MQTT (a real
/// mosquitto), an HL7/MLLP listener and simulated chairs; sign-in, sign-out and the antiforgery check; every GET route
/// and page; the live stream; an audited admin limit change; acknowledge and pause; an MQTT reading stored and its alarm
/// published; an HL7 message answered AA and stored; the runtime settings; the OpenAPI document; the central verb; the
/// decode command; a bad config. The JIT tests cannot see what trimming and AOT compilation drop.
/// </summary>
public sealed class AotGatewayTests(NativeGateway native) : IClassFixture<NativeGateway>, IAsyncLifetime
{
    private const string Site = "aot-site";
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(1);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-aot-").FullName;
    private readonly string prefix = MqttTestSupport.NewPrefix();
    private MosquittoBroker broker = null!;
    private GatewayProcess gateway = null!;

    public async Task InitializeAsync()
    {
        broker = await MosquittoBroker.StartAsync();
        var config = Path.Combine(dir, "vitals.json");
        await File.WriteAllTextAsync(config, $$"""
            { "site": "{{Site}}", "mqtt": { "url": "mqtt://127.0.0.1:{{broker.Port}}", "topicPrefix": "{{prefix}}" },
              "hl7": { "listen": "127.0.0.1:0", "chairRule": "pv1Bed", "timeZone": "UTC" },
              "chairs": [
                { "id": "chair-1", "name": "Chair 1", "devices": [ { "id": "sim-1", "kind": "simulator", "scenario": "stable" } ] },
                { "id": "chair-2", "devices": [ { "id": "mon-2", "kind": "mqtt" } ] },
                { "id": "chair-3", "devices": [ { "id": "hl7-3", "kind": "hl7", "match": "BED3" } ] } ] }
            """);
        gateway = await GatewayProcess.StartAsync(config, dir, executable: native.Executable);
    }

    public async Task DisposeAsync()
    {
        gateway?.Dispose();
        await broker.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Status_ReportsNoJitAndTheShippedGcSettings()
    {
        var runtime = (await GetJsonAsync("api/status")).GetProperty("runtime");

        // No method compiled at run time: this is the native binary, not a JIT fallback.
        Assert.Equal(0, runtime.GetProperty("jitCompiledMethods").GetInt64());
        // Runtime.props, compiled into the binary and applied by its GC.
        Assert.False(runtime.GetProperty("serverGc").GetBoolean());
        Assert.True(runtime.GetProperty("concurrentGc").GetBoolean());
        Assert.Equal(8L << 20, runtime.GetProperty("gen0MaxBudget").GetInt64());
    }

    [Fact]
    public async Task EveryGetRouteAndPage_AnswersOkWithItsContent()
    {
        // RoleMatrixTests' table: every route the OpenAPI document lists. The stream is read in its own test.
        var routes = RoleMatrixTests.Access.Keys.Where(r => r.StartsWith("GET ", StringComparison.Ordinal) && r != "GET /api/stream").ToList();
        Assert.NotEmpty(routes);
        var failures = new List<string>();
        foreach (var route in routes)
        {
            var path = route[4..].TrimStart('/').Replace("{id}", "chair-1", StringComparison.Ordinal);
            using var response = await gateway.Http.GetAsync(new Uri(path, UriKind.Relative));
            var body = await response.Content.ReadAsStringAsync();
            var json = response.Content.Headers.ContentType?.MediaType == "application/json";
            if (response.StatusCode != HttpStatusCode.OK || body.Length == 0 || (json && !IsJson(body)))
            {
                failures.Add($"{route}: {(int)response.StatusCode} {body[..Math.Min(body.Length, 300)]}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures) + $"\ngateway output:\n{gateway.Output}");

        using var openApi = JsonDocument.Parse(await gateway.Http.GetStringAsync(new Uri("openapi/v1.json", UriKind.Relative)));
        var documented = openApi.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}")).ToHashSet();
        Assert.Superset(routes.ToHashSet(), documented);
    }

    [Fact]
    public async Task SignOutAntiforgeryAndBadInput_AnswerAsUnderTheJit()
    {
        // Bad input: problem details naming the field (a body value, then a query value that does not parse).
        using (var bad = await gateway.SendAsync(HttpMethod.Put, "api/admin/profiles/default adult/values/hr.low.medium", new { value = -5 }))
        {
            await ApiFixture.AssertFieldErrorAsync(bad, "hr.low.medium");
        }

        using (var badQuery = await gateway.Http.GetAsync(new Uri("api/chairs/chair-1/history?from=yesterday", UriKind.Relative)))
        {
            await ApiFixture.AssertFieldErrorAsync(badQuery, "from");
        }

        // A state-changing call without the antiforgery header is refused.
        using (var noToken = await gateway.Http.PostAsync(new Uri("api/chairs/chair-1/pause", UriKind.Relative), JsonBody("""{"seconds":30}""")))
        {
            var body = await noToken.Content.ReadAsStringAsync();
            Assert.True(noToken.StatusCode == HttpStatusCode.BadRequest && body.Contains("Antiforgery", StringComparison.Ordinal), $"{(int)noToken.StatusCode} {body}");
        }

        Assert.Equal("admin", (await GetJsonAsync("api/auth/me")).GetProperty("name").GetString());
        using (var logout = await gateway.SendAsync(HttpMethod.Post, "api/auth/logout"))
        {
            Assert.True(logout.IsSuccessStatusCode, $"logout answered {(int)logout.StatusCode}");
        }

        using var after = await gateway.Http.GetAsync(new Uri("api/info", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        using var login = await gateway.SendAsync(HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Http.GetAsync(new Uri("api/info", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Stream_DeliversTheSnapshotThenLiveReadings()
    {
        using var cts = new CancellationTokenSource(Wait);
        using var response = await gateway.Http.GetAsync(new Uri("api/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        var events = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        string? type = null;
        while (!events.ContainsKey("obs") && await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && type is not null)
            {
                events[type] = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
        }

        Assert.Equal(Site, events["snapshot"].GetProperty("site").GetString());
        Assert.Contains(events["obs"].EnumerateArray(), o => o.GetProperty("chair").GetString() == "chair-1");
    }

    [Fact]
    public async Task AdminLimitChange_IsAppliedAndAudited_AndNurseCanAcknowledgeAndPause()
    {
        using (var change = await gateway.SendAsync(HttpMethod.Put, "api/admin/profiles/default adult/values/hr.low.medium", new { value = 44 }))
        {
            Assert.True(change.IsSuccessStatusCode, $"{(int)change.StatusCode} {await change.Content.ReadAsStringAsync()}");
        }

        var audit = await GetJsonAsync("api/admin/audit");
        Assert.Contains(audit.EnumerateArray(), e => e.GetRawText().Contains("hr.low.medium", StringComparison.Ordinal) && e.GetRawText().Contains("44", StringComparison.Ordinal));

        // A chair's devices rebound by the admin: stored as JSON in the config table, checked like the config file.
        using (var bind = await gateway.SendAsync(HttpMethod.Put, "api/admin/chairs/chair-1/devices", new { devices = new[] { new { id = "sim-9", kind = "simulator", scenario = "stable", seed = 9 } } }))
        {
            Assert.True(bind.IsSuccessStatusCode, $"{(int)bind.StatusCode} {await bind.Content.ReadAsStringAsync()}");
        }

        var chair1 = (await GetJsonAsync("api/admin/bindings")).EnumerateArray().Single(b => b.GetRawText().Contains("chair-1", StringComparison.Ordinal));
        Assert.Contains("sim-9", chair1.GetRawText(), StringComparison.Ordinal);

        // An alarm to acknowledge: a low blood pressure over MQTT raises nibp_sys.low on chair-2 at once.
        await PublishAsync("chair-2", """{"device":"mon-2","readings":[{"sign":"nibp_sys","value":72}]}""");
        await gateway.WaitUntilAsync(
            async () => (await GetJsonAsync("api/alarms")).EnumerateArray().Any(a => a.GetProperty("chair").GetString() == "chair-2"),
            "the chair-2 alarm to be active",
            Wait);
        using (var ack = await gateway.SendAsync(HttpMethod.Post, "api/chairs/chair-2/acknowledge"))
        {
            Assert.True(ack.IsSuccessStatusCode, $"acknowledge: {(int)ack.StatusCode} {await ack.Content.ReadAsStringAsync()}");
            Assert.True(IsJson(await ack.Content.ReadAsStringAsync()));
        }

        using (var pause = await gateway.SendAsync(HttpMethod.Post, "api/chairs/chair-1/pause", new { seconds = 30 }))
        {
            var body = await pause.Content.ReadAsStringAsync();
            Assert.True(pause.IsSuccessStatusCode && IsJson(body), $"pause: {(int)pause.StatusCode} {body}");
        }

        var status = (await GetJsonAsync("api/chair-status")).EnumerateArray().Single(c => c.GetProperty("chair").GetString() == "chair-1");
        Assert.InRange(status.GetProperty("pauseRemainingSeconds").GetDouble(), 1, 30);
    }

    [Fact]
    public async Task MqttReading_IsStoredAndItsAlarmPublished()
    {
        await using var recorder = await TopicRecorder.StartAsync(broker.Port, [$"{prefix}/{Site}/+/alarm"]);
        await PublishAsync("chair-2", """{"device":"mon-2","readings":[{"sign":"nibp_sys","value":71}]}""");

        await recorder.WaitForAsync($"{prefix}/{Site}/chair-2/alarm", timeout: Wait);
        var alarm = JsonDocument.Parse(recorder.On($"{prefix}/{Site}/chair-2/alarm")[0].Payload).RootElement;
        Assert.Equal("nibp_sys.low", alarm.GetProperty("rule").GetString());
        Assert.Equal("raised", alarm.GetProperty("state").GetString());
        Assert.Equal("physiological", alarm.GetProperty("kind").GetString());
        await gateway.WaitUntilAsync(() => Task.FromResult(StoredCount("chair-2", "nibp_sys", 71) == 1), "the MQTT reading to be stored", Wait);
    }

    [Fact]
    public async Task Hl7Message_IsAnsweredAaAndStored()
    {
        var at = DateTimeOffset.UtcNow.AddSeconds(-5).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "+0000";
        var message = Encoding.ASCII.GetBytes(
            $"MSH|^~\\&|MON3|F|||{at}||ORU^R01|AOT-1|P|2.6\rPV1||O|INF^R1^BED3\rOBX|1|NM|147842^^MDC|1.1.1.1|63|/min|||||R|||{at}\r");
        await using var client = await MllpClient.ConnectAsync("127.0.0.1", gateway.Hl7Port, Wait);

        var reply = await client.SendAsync(message, Wait);

        Assert.True(Hl7Ack.TryParse(reply, out var ack), Encoding.ASCII.GetString(reply));
        Assert.Equal(Hl7AckCode.Accept, ack!.Code);
        Assert.Equal("AOT-1", ack.AcknowledgedControlId);
        Assert.Equal(1, StoredCount("chair-3", "hr", 63)); // AA means committed
    }

    [Fact]
    public async Task CentralVerb_StartsAndShowsTheSite()
    {
        using var port = new ReservedPort();
        var centralUrl = $"http://127.0.0.1:{port.Port}";
        port.Dispose(); // central binds it; the window is the same as any test that reserves a port for a child
        var data = Directory.CreateDirectory(Path.Combine(dir, "central")).FullName;
        var psi = new ProcessStartInfo(native.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, Environment = { ["VITALS_ADMIN_PASSWORD"] = GatewayHost.AdminPassword } };
        foreach (var argument in (string[])["central", "--mqtt", $"mqtt://127.0.0.1:{broker.Port}", "--topic-prefix", prefix, "--urls", centralUrl, "--data", data])
        {
            psi.ArgumentList.Add(argument);
        }

        using var central = Process.Start(psi)!;
        var output = new StringBuilder();
        void Keep(object? sender, DataReceivedEventArgs e)
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        }

        central.OutputDataReceived += Keep;
        central.ErrorDataReceived += Keep;
        central.BeginOutputReadLine();
        central.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(centralUrl + "/") };
            await Eventually.TrueAsync(
                async () =>
                {
                    Assert.False(central.HasExited, $"central exited with {(central.HasExited ? central.ExitCode : 0)}: {output}");
                    try
                    {
                        return (await http.GetAsync(new Uri("healthz", UriKind.Relative))).IsSuccessStatusCode;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                "central to answer /healthz",
                Wait);
            using var login = await GatewayHost.SendAsync(http, HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
            Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);

            // The gateway's retained state and status reach central over the broker: central parses them (generated metadata too).
            await Eventually.TrueAsync(
                async () => JsonDocument.Parse(await http.GetStringAsync(new Uri("api/sites", UriKind.Relative))).RootElement.EnumerateArray()
                    .Any(s => s.GetProperty("site").GetString() == Site && s.GetProperty("chairs").GetArrayLength() == 3),
                "central to show the gateway's site with its 3 chairs",
                Wait);
            foreach (var path in (string[])["api/info", "api/alarms", "api/alarms/history", "api/status", $"api/sites/{Site}", $"api/sites/{Site}/chairs/chair-1", "", $"sites/{Site}/chairs/chair-1"])
            {
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"central GET /{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{output}");
            }
        }
        finally
        {
            central.Kill();
            await central.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task DecodeCommand_PrintsOneJsonObjectPerObservation()
    {
        var (exit, output) = await NativeGateway.RunAsync(native.Executable, ["decode", "--protocol", "masimo", Repo.Capture("masimo-rad8-ascii1.txt")], Wait);

        Assert.True(exit == 0, $"decode exited {exit}: {output}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.False(string.IsNullOrEmpty(l.GetProperty("sign").GetString())));
        Assert.Contains(lines, l => l.GetProperty("sign").GetString() == "spo2");

        // A line device: its JSON description is read with generated metadata (defaults kept for keys it leaves out).
        var (lineExit, lineOutput) = await NativeGateway.RunAsync(
            native.Executable, ["decode", "--protocol", "line", "--map", Repo.Capture("nonin-7500.json"), Repo.Capture("nonin-7500.txt")], Wait);
        Assert.True(lineExit == 0, $"decode --protocol line exited {lineExit}: {lineOutput}");
        Assert.Contains("\"sign\":\"spo2\"", lineOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadConfig_FailsAtStartNamingTheKeyAndTheFix()
    {
        var config = Path.Combine(dir, "bad.json");
        await File.WriteAllTextAsync(config, """{ "site": "x", "chairs": [ { "id": "c1", "devices": [ { "id": "s1", "kind": "simulator", "scenaro": "stable" } ] } ] }""");

        var (exit, output) = await NativeGateway.RunAsync(native.Executable, ["run", "--config", config, "--data", dir], Wait);

        Assert.NotEqual(0, exit);
        Assert.Contains("chairs[0].devices[0].scenaro: unknown key. Did you mean 'scenario'?", output, StringComparison.Ordinal);
    }

    private static bool IsJson(string body)
    {
        try
        {
            using var _ = JsonDocument.Parse(body);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var doc = JsonDocument.Parse(await gateway.Http.GetStringAsync(new Uri(path, UriKind.Relative)));
        return doc.RootElement.Clone();
    }

    private async Task PublishAsync(string chair, string json)
    {
        await using var publisher = await TestClients.ConnectedAsync(TestClients.Options(broker.Port));
        await publisher.PublishAsync($"{prefix}/{Site}/{chair}/obs", Encoding.UTF8.GetBytes(json), Vitals.Mqtt.Packets.MqttQualityOfService.AtLeastOnce);
        await publisher.FlushAsync();
    }

    private long StoredCount(string chair, string sign, double value) =>
        SqliteStore.ReadAllFrames(Path.Combine(dir, "vitals.db"))
            .Count(f => f.Frame.Any(o => o.Chair == chair && o.Sign.ShortName() == sign && o.Value == value));
}
