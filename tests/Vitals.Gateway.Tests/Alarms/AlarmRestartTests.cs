using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Tests.Alarms;

public sealed class AlarmRestartTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-alarm-restart-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Restart_ActiveAndAcknowledgedAlarms_AreRestored()
    {
        // The monitor is silent (one step an hour) and the test sends one low NIBP reading: nothing clears the alarm
        // between the acknowledgement and the stop.
        await using (var host = await GatewayHost.StartAsync(GatewayHost.OneChair("hypotension", 60), TimeSpan.FromHours(1), dir))
        {
            var now = DateTimeOffset.UtcNow;
            await host.App.Services.GetRequiredService<ObservationPipeline>().Writer.WriteAsync(
                new Observation("test-site", "chair-1", "sim-1", Sign.NibpSys, 85, now, now, SourceProtocol.Simulator));
            await Eventually.TrueAsync(async () => (await Active(host)).Any(a => a.Rule == "nibp_sys.low"), "the nibp_sys.low alarm before the restart");
            var service = host.App.Services.GetRequiredService<AlarmService>();
            var acked = await service.RunAsync((e, now, events) => e.Acknowledge("chair-1", "nibp_sys.low", "nurse-a", now, events), CancellationToken.None);
            Assert.True(acked);
        }

        SqliteConnection.ClearAllPools();

        // The second run's monitor is silent (one step an hour): whatever is active came from the saved state.
        await using (var host = await GatewayHost.StartAsync(GatewayHost.OneChair("hypotension", 60), TimeSpan.FromHours(1), dir))
        {
            var alarm = Assert.Single(await Active(host), a => a.Rule == "nibp_sys.low");
            Assert.Equal("acknowledged", alarm.State);
            Assert.Equal("nurse-a", alarm.User);
        }
    }

    [Fact]
    public async Task Restart_LimitChange_IsReplayedFromTheLog()
    {
        await using (var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1), dir))
        {
            var service = host.App.Services.GetRequiredService<AlarmService>();
            var result = service.Configure((config, now) => config.SetProfileValue(AlarmProfiles.DefaultAdultName, "nibp_sys.low.medium", 100, "admin", now));
            Assert.True(result.Ok, string.Join("; ", result.Errors));
        }

        SqliteConnection.ClearAllPools();
        await using (var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1), dir))
        {
            var service = host.App.Services.GetRequiredService<AlarmService>();
            var band = service.Read((e, _) => e.ProfileFor("chair-1").Limits.Single(b => b.Key == "nibp_sys.low.medium"));
            Assert.Equal(100, band.Threshold);
            using var log = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/events?type=alarm-config", UriKind.Relative)));
            var change = JsonDocument.Parse(log.RootElement[0].GetProperty("data").GetString()!).RootElement;
            Assert.Equal("admin", change.GetProperty("user").GetString());
            Assert.Equal("90", change.GetProperty("oldValue").GetString());
            Assert.Equal("100", change.GetProperty("newValue").GetString());
        }
    }

    private sealed record AlarmView(string Rule, string State, string? User, Sign? Sign);

    private static async Task<List<AlarmView>> Active(GatewayHost host)
    {
        var json = await host.Http.GetStringAsync(new Uri("api/alarms", UriKind.Relative));
        return JsonSerializer.Deserialize<List<AlarmView>>(json, TestJson.Options)!;
    }
}
