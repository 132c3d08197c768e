using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Tests.Pipeline;

/// <summary>A loop that throws is raised as a gateway alarm and restarted, and the alarm clears once it stays up.</summary>
public sealed class LoopSupervisorTests
{
    [Fact]
    public async Task RunAsync_LoopThrowsTwiceThenRuns_RaisedAsHighGatewayAlarmRestartedAndClearedOnceHealthy()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        var supervisor = host.App.Services.GetRequiredService<LoopSupervisor>();
        var starts = 0;
        using var stop = new CancellationTokenSource();
        var supervised = supervisor.RunAsync(
            "test",
            async ct =>
            {
                if (Interlocked.Increment(ref starts) <= 2)
                {
                    throw new InvalidOperationException("broken on purpose");
                }

                await Task.Delay(Timeout.Infinite, ct);
            },
            stop.Token);

        JsonElement? alarm = null;
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(30), async () => (alarm = await GatewayAlarm(host, "gateway.loop.test")) is not null);
        Assert.Equal("high", alarm!.Value.GetProperty("priority").GetString());
        Assert.Equal("technical", alarm.Value.GetProperty("kind").GetString());
        Assert.Contains("broken on purpose", alarm.Value.GetProperty("message").GetString(), StringComparison.Ordinal);

        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(30), () => Task.FromResult(Volatile.Read(ref starts) == 3));
        await GatewayHost.WaitUntil(LoopSupervisor.HealthyAfter + TimeSpan.FromSeconds(60), async () => await GatewayAlarm(host, "gateway.loop.test") is null);
        Assert.False(supervised.IsCompleted);

        await stop.CancelAsync();
        await supervised.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, starts);
    }

    private static async Task<JsonElement?> GatewayAlarm(GatewayHost host, string rule)
    {
        using var doc = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/alarms", UriKind.Relative)));
        return doc.RootElement.EnumerateArray().Where(a => a.GetProperty("rule").GetString() == rule).Select(a => (JsonElement?)a.Clone()).FirstOrDefault();
    }
}
