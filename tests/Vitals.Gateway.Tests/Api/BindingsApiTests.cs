using System.Net;
using System.Text.Json;

namespace Vitals.Gateway.Tests.Api;

public class BindingsApiTests(ApiFixture f) : IClassFixture<ApiFixture>
{
    private const string Path = "api/admin/chairs/chair-2/devices";

    private static readonly object SimBody = new { devices = new object[] { new { id = "sim-2", kind = "simulator", scenario = "stable", seed = 4 } } };

    [Fact]
    public async Task PutDevices_Anonymous401_Nurse403_Viewer403()
    {
        using var anonymous = await GatewayHost.SendAsync(f.Anonymous, HttpMethod.Put, Path, SimBody);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var nurse = await GatewayHost.SendAsync(f.Nurse, HttpMethod.Put, Path, SimBody);
        Assert.Equal(HttpStatusCode.Forbidden, nurse.StatusCode);
        using var viewer = await GatewayHost.SendAsync(f.Viewer, HttpMethod.Put, Path, SimBody);
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
    }

    [Fact]
    public async Task PutDevices_WithoutAntiforgeryToken_IsRefused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(Path, UriKind.Relative)) { Content = System.Net.Http.Json.JsonContent.Create(SimBody) };
        using var response = await f.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var bindings = await f.GetJsonAsync(f.Admin, "api/admin/bindings");
        Assert.Equal("file", Chair(bindings, "chair-2").GetProperty("source").GetString());
    }

    [Theory]
    [InlineData("""[{ "id": "sim-2", "kind": "simulator", "scenario": "hypotensoin" }]""", "devices[0].scenario")]
    [InlineData("""[{ "id": "sim-2", "kind": "simulator", "scenaro": "stable" }]""", "devices[0].scenaro")]
    [InlineData("""[{ "id": "sim-2", "kind": "simulator" }, { "id": "", "kind": "simulator" }]""", "devices[1].id")]
    [InlineData("""[{ "id": "m-2", "kind": "serial", "port": "ttyUSB0" }]""", "devices[0].port")]
    [InlineData("""[{ "id": "m-2", "kind": "serial", "port": "/dev/ttyUSB0", "baud": "fast" }]""", "devices[0].baud")]
    [InlineData("""[{ "id": "m-2", "kind": "serial", "port": "/dev/ttyUSB0", "baud": 5 }]""", "devices[0].baud")]
    [InlineData("""[{ "id": "b-2", "kind": "hl7" }]""", "devices[0].match")]
    [InlineData("""[{ "id": "x-2", "kind": "bluetooth" }]""", "devices[0].kind")]
    [InlineData("""{ "devices": [] }""", "devices")]
    public async Task PutDevices_BadInput_400NamesTheField_NothingStored(string json, string field)
    {
        using var response = await PutRawAsync(f.Admin, Path, json);
        await ApiFixture.AssertFieldErrorAsync(response, field);
        var bindings = await f.GetJsonAsync(f.Admin, "api/admin/bindings");
        Assert.Equal("file", Chair(bindings, "chair-2").GetProperty("source").GetString());
    }

    [Fact]
    public async Task PutDevices_UnknownChair_404()
    {
        using var response = await GatewayHost.SendAsync(f.Admin, HttpMethod.Put, "api/admin/chairs/nope/devices", SimBody);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task PutDevices_SimulatorChange_AppliesNow_Audited_AndSurvivesRestart()
    {
        var data = Directory.CreateTempSubdirectory("vitals-bindings-").FullName;
        var host = await GatewayHost.StartAsync(ApiFixture.Options(), TimeSpan.FromMilliseconds(50), data);
        try
        {
            var body = new { devices = new object[] { new { id = "sim-9", kind = "simulator", scenario = "tachycardia", seed = 9, timeScale = 30 } } };
            using var response = await GatewayHost.SendAsync(host.Http, HttpMethod.Put, Path, body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var change = await ApiFixture.JsonAsync(response);
            Assert.Equal("now", change.GetProperty("applied").GetString());

            // The chair's old feed is gone and the new one runs.
            await WaitForFeedAsync(host.Http, "sim-9", "sim-2");

            using var audit = await host.Http.GetAsync(new Uri("api/admin/audit?type=audit&chair=chair-2", UriKind.Relative));
            var entry = (await ApiFixture.JsonAsync(audit)).EnumerateArray().First(e => e.GetProperty("data").GetProperty("action").GetString() == "bindings.changed");
            Assert.Equal("admin", entry.GetProperty("user").GetString());
            Assert.Contains("sim-2 simulator stable seed 4 -> sim-9 simulator tachycardia seed 9", entry.GetProperty("summary").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await host.DisposeAsync();
        }

        // Same data directory, the original (file) options: the saved binding overrides them.
        var again = await GatewayHost.StartAsync(ApiFixture.Options(), TimeSpan.FromMilliseconds(50), data);
        try
        {
            var bindings = await GetJsonAsync(again.Http, "api/admin/bindings");
            var chair = Chair(bindings, "chair-2");
            Assert.Equal("admin", chair.GetProperty("source").GetString());
            Assert.False(chair.GetProperty("pendingRestart").GetBoolean());
            var device = chair.GetProperty("devices")[0];
            Assert.Equal("sim-9", device.GetProperty("id").GetString());
            Assert.Equal("tachycardia", device.GetProperty("scenario").GetString());
            await WaitForFeedAsync(again.Http, "sim-9", "sim-2");
            Assert.Equal("file", Chair(bindings, "chair-1").GetProperty("source").GetString());
        }
        finally
        {
            await again.DisposeAsync();
        }
    }

    /// <summary>
    /// HL7 and MQTT edits apply live (Feeds/Hl7LiveBindingsTests, Mqtt/MqttLiveBindingsTests), except when the transport
    /// they need was not started: no MLLP listener (no hl7 section or device at start) or no broker configured.
    /// </summary>
    [Theory]
    [InlineData("""[{ "id": "b40-1", "kind": "hl7", "match": "BED1" }]""", "b40-1", "hl7.listen")]
    [InlineData("""[{ "id": "mon-1", "kind": "mqtt" }]""", "mon-1", "mqtt.url")]
    public async Task PutDevices_TransportNotRunning_SavedButAppliesAfterRestart_NamesSetting_RunningFeedsUnchanged(string json, string device, string setting)
    {
        var host = await GatewayHost.StartAsync(ApiFixture.Options(), TimeSpan.FromMilliseconds(50));
        try
        {
            using var response = await PutRawAsync(host.Http, "api/admin/chairs/chair-1/devices", json);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var change = await ApiFixture.JsonAsync(response);
            Assert.Equal("after restart", change.GetProperty("applied").GetString());
            var message = change.GetProperty("message").GetString();
            Assert.Contains(setting, message, StringComparison.Ordinal);
            Assert.Contains("restarted", message, StringComparison.Ordinal);

            var chair = Chair(await GetJsonAsync(host.Http, "api/admin/bindings"), "chair-1");
            Assert.True(chair.GetProperty("pendingRestart").GetBoolean());
            Assert.Equal(device, chair.GetProperty("devices")[0].GetProperty("id").GetString());
            await WaitForFeedAsync(host.Http, "sim-1", device, "chair-1");
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    private static JsonElement Chair(JsonElement bindings, string id) =>
        bindings.EnumerateArray().Single(b => b.GetProperty("chair").GetString() == id);

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ApiFixture.JsonAsync(response);
    }

    private static async Task<HttpResponseMessage> PutRawAsync(HttpClient client, string path, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri(path, UriKind.Relative))
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-CSRF-TOKEN", await GatewayHost.CsrfAsync(client));
        return await client.SendAsync(request);
    }

    /// <summary>Waits until chair's feeds list <paramref name="present"/> (with frames) and not <paramref name="absent"/>.</summary>
    private static async Task WaitForFeedAsync(HttpClient client, string present, string absent, string chair = "chair-2")
    {
        string last = "";
        try
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    var view = await GetJsonAsync(client, $"api/chairs/{chair}");
                    var feeds = view.GetProperty("feeds").EnumerateArray().ToList();
                    last = view.GetProperty("feeds").GetRawText();
                    return feeds.Any(x => x.GetProperty("device").GetString() == present && x.GetProperty("framesOk").GetInt64() > 0)
                        && feeds.All(x => x.GetProperty("device").GetString() != absent);
                },
                $"chair {chair}: feed {present} running and {absent} gone");
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message} Feeds: {last}");
        }
    }
}
