using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway.Pipeline;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using static Vitals.Gateway.Tests.Mqtt.MqttTestSupport;

namespace Vitals.Gateway.Tests.Mqtt;

/// <summary>Broker outages and gateway crashes: nothing blocks, nothing QoS 1 is lost, the will tells subscribers.</summary>
public sealed class MqttOutageTests(PersistentMosquittoFixture fixture) : IClassFixture<PersistentMosquittoFixture>
{
    private MosquittoBroker Broker => fixture.Broker;

    [Fact]
    public async Task Alarms_RaisedWhileBrokerDown_DeliveredAfterRestart()
    {
        var prefix = NewPrefix();
        await using var host = await StartAsync(Options(new MqttOptions { Url = $"mqtt://127.0.0.1:{Broker.Port}", TopicPrefix = prefix }));
        await host.WaitConnectedAsync();

        // A persistent session, so the broker keeps our subscription and queues for us while we reconnect too.
        var subscriberOptions = TestClients.Options(Broker.Port, "alarm-sub-" + prefix) with { CleanSession = false };
        await using var subscriber = await TestClients.ConnectedAsync(subscriberOptions);
        await subscriber.SubscribeAsync($"{prefix}/{Site}/+/alarm", MqttQualityOfService.AtLeastOnce);

        await Broker.StopAsync();
        await Eventually.TrueAsync(() => host.Bridge().Status()!.State != "connected", "the gateway to notice the outage");

        // Readings keep flowing and alarms keep being judged with the broker gone.
        var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
        var live = host.App.Services.GetRequiredService<LiveState>();
        var now = DateTimeOffset.UtcNow;
        await pipeline.Writer.WriteAsync(new Observation(Site, "chair-1", "mon-1", Sign.NibpSys, 85, now, now, SourceProtocol.Mqtt));
        await Eventually.TrueAsync(() => live.Snapshot("chair-1")!.Alarms.Count > 0, "the alarm to be raised during the outage");
        var rule = live.Snapshot("chair-1")!.Alarms[0].Rule;
        await pipeline.Writer.WriteAsync(new Observation(Site, "chair-1", "mon-1", Sign.NibpSys, 125, now.AddSeconds(1), now.AddSeconds(1), SourceProtocol.Mqtt));
        await Eventually.TrueAsync(() => live.Snapshot("chair-1")!.Alarms.All(a => a.Rule != rule), "the alarm to clear during the outage");
        // Live state changes before the dispatcher hands the transition to the MQTT sink: wait for both to be queued.
        await Eventually.TrueAsync(() => host.Bridge().Status()!.PendingQos1 >= 2, "both transitions to be queued for the broker");

        await Broker.RestartAsync();

        var raised = await ReceiveAsync(subscriber, $"{prefix}/{Site}/chair-1/alarm", j => j.GetProperty("rule").GetString() == rule && j.GetProperty("state").GetString() == "raised");
        var cleared = await ReceiveAsync(subscriber, $"{prefix}/{Site}/chair-1/alarm", j => j.GetProperty("rule").GetString() == rule && j.GetProperty("state").GetString() == "cleared");
        Assert.Equal(85, raised.Json.GetProperty("value").GetDouble());
        Assert.Equal(MqttQualityOfService.AtLeastOnce, cleared.Message.Qos);
        await host.WaitConnectedAsync();
        await Eventually.TrueAsync(() => host.Bridge().Status()!.PendingQos1 == 0, "every QoS 1 message to be acknowledged");
        Assert.Equal(0, host.Bridge().Status()!.Dropped);
    }

    [Fact]
    public async Task GatewayProcess_Sigkilled_WillPublishesRetainedOffline()
    {
        var site = "kill-" + Guid.NewGuid().ToString("N")[..8];
        await using var sub = await TestClients.ConnectedAsync(TestClients.Options(Broker.Port));
        await sub.SubscribeAsync($"vitals/{site}/gateway/status", MqttQualityOfService.AtLeastOnce);

        var data = Directory.CreateTempSubdirectory("vitals-mqtt-kill-").FullName;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            BuiltDll("src/Vitals.Gateway", "vitals.dll"), "demo", "--chairs", "1", "--time-scale", "1", "--urls", "http://127.0.0.1:0", "--data", data, "--site", site,
            "--mqtt", $"mqtt://127.0.0.1:{Broker.Port}",
        })
        {
            info.ArgumentList.Add(a);
        }

        using var gateway = Process.Start(info)!;
        gateway.OutputDataReceived += (_, _) => { };
        gateway.ErrorDataReceived += (_, _) => { };
        gateway.BeginOutputReadLine();
        gateway.BeginErrorReadLine();
        try
        {
            // A child process starting the whole gateway on a busy 2-core machine gets more time than an in-process one.
            await ReceiveAsync(sub, $"vitals/{site}/gateway/status", j => j.GetProperty("state").GetString() == "online", TimeSpan.FromSeconds(30));

            gateway.Kill(); // SIGKILL: no DISCONNECT, so the broker must publish the will [MQTT-3.1.2-8].
            await gateway.WaitForExitAsync();

            var (_, offline) = await ReceiveAsync(sub, $"vitals/{site}/gateway/status", j => j.GetProperty("state").GetString() == "offline");
            Assert.Equal(site, offline.GetProperty("site").GetString());

            // And it is retained for anyone who asks later.
            await using var late = await TestClients.ConnectedAsync(TestClients.Options(Broker.Port));
            await late.SubscribeAsync($"vitals/{site}/gateway/status", MqttQualityOfService.AtLeastOnce);
            var (retained, json) = await ReceiveAsync(late, $"vitals/{site}/gateway/status");
            Assert.True(retained.Retain);
            Assert.Equal("offline", json.GetProperty("state").GetString());
        }
        finally
        {
            if (!gateway.HasExited)
            {
                gateway.Kill();
            }

            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>A project's build output in the same configuration as this test's (for example the gateway's vitals.dll).</summary>
    internal static string BuiltDll(string project, string file)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = dir.Parent!.Name;
        var root = dir;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Vitals.sln")))
        {
            root = root.Parent;
        }

        var dll = Path.Combine(root!.FullName, project, "bin", configuration, dir.Name, file);
        Assert.True(File.Exists(dll), $"{dll} not found");
        return dll;
    }
}
