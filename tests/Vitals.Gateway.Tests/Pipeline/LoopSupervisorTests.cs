using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Vitals.Gateway.Alarms;
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

    [Fact]
    public async Task RunAsync_LoopFailsEveryTime_StopsTheHostWithExitCode1AfterMaxFailures()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        var lifetime = new RecordingLifetime();
        var supervisor = new LoopSupervisor(
            host.App.Services.GetRequiredService<AlarmService>(), lifetime, TimeProvider.System, NullLogger<LoopSupervisor>.Instance);
        var starts = 0;
        var exitCodeBefore = Environment.ExitCode;
        try
        {
            // Backoff 1 + 2 + 4 + 8 s between the five failures, then the host is stopped, never left running without the loop.
            await supervisor.RunAsync("doomed", _ => Interlocked.Increment(ref starts) > 0 ? throw new IOException("disk gone") : Task.CompletedTask, CancellationToken.None)
                .WaitAsync(TimeSpan.FromMinutes(2));

            Assert.Equal(LoopSupervisor.MaxFailures, starts);
            Assert.True(lifetime.StopRequested);
            Assert.Equal(1, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = exitCodeBefore;
        }
    }

    private sealed class RecordingLifetime : IHostApplicationLifetime
    {
        public bool StopRequested { get; private set; }

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => StopRequested = true;
    }

    private static async Task<JsonElement?> GatewayAlarm(GatewayHost host, string rule)
    {
        using var doc = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/alarms", UriKind.Relative)));
        return doc.RootElement.EnumerateArray().Where(a => a.GetProperty("rule").GetString() == rule).Select(a => (JsonElement?)a.Clone()).FirstOrDefault();
    }
}
