using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway.Pipeline;
using Vitals.Gateway.Tests.Storage;

namespace Vitals.Gateway.Tests.Chaos;

/// <summary>
/// The store's disk fills up: the data directory is a small tmpfs (mounted by the test, which runs as root), filled to the
/// last byte by another file. The gateway raises a high-priority gateway alarm, keeps running and keeps every reading the
/// pipeline took; when space returns it stores them all, exactly once, and the alarm clears.
/// </summary>
public sealed class DiskFullChaosTests
{
    [Fact]
    public async Task StoreDiskFull_HighAlarmNoCrashThenEveryReadingStoredWhenSpaceReturns()
    {
        var mount = Directory.CreateTempSubdirectory("vitals-diskfull-").FullName;
        Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount);
        try
        {
            await using (var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1), dataDir: mount))
            {
                var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
                var sent = 0;
                async Task SendAsync(int count)
                {
                    for (var end = sent + count; sent < end; sent++)
                    {
                        var now = DateTimeOffset.UtcNow;
                        await pipeline.Writer.WriteAsync(new Observation("test-site", "chair-1", "sim-1", Sign.Hr, 60 + (sent * 0.01), now, now, SourceProtocol.Simulator));
                    }
                }

                await SendAsync(50);
                await GatewayHost.WaitUntil(TimeSpan.FromSeconds(30), async () => await StorageFaultAlarmTests.StoredAsync(host) == 50);

                // Another file takes every free byte; readings keep arriving until the store's writes fail.
                var filler = Path.Combine(mount, "filler.bin");
                FillDisk(filler);
                JsonElement? alarm = null;
                await GatewayHost.WaitUntil(TimeSpan.FromSeconds(90), async () =>
                {
                    if (sent < 5_000)
                    {
                        await SendAsync(25);
                    }

                    return (alarm = await StorageFaultAlarmTests.GatewayAlarm(host, "gateway.store")) is not null;
                });
                Assert.Equal("high", alarm!.Value.GetProperty("priority").GetString());
                Assert.True(await StorageFaultAlarmTests.StoredAsync(host) < sent, "some readings must be waiting for space");
                using (var health = await host.Http.GetAsync(new Uri("healthz", UriKind.Relative)))
                {
                    Assert.True(health.IsSuccessStatusCode, "the gateway keeps serving while its disk is full");
                }

                // Space returns: the readings held meanwhile are written, each once, and the alarm clears.
                File.Delete(filler);
                await SendAsync(50);
                await GatewayHost.WaitUntil(TimeSpan.FromSeconds(60), async () => await StorageFaultAlarmTests.StoredAsync(host) == sent && await StorageFaultAlarmTests.GatewayAlarm(host, "gateway.store") is null);
                using var history = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs/chair-1/history?minutes=30", UriKind.Relative)));
                var values = history.RootElement.EnumerateArray().Select(o => Math.Round((o.GetProperty("value").GetDouble() - 60) * 100)).Order().ToList();
                Assert.Equal(Enumerable.Range(0, sent).Select(i => (double)i), values);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Run("umount", "-l", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    private static void FillDisk(string path)
    {
        var chunk = new byte[64 * 1024];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        try
        {
            while (true)
            {
                file.Write(chunk);
            }
        }
        catch (IOException)
        {
            // ENOSPC: the filesystem is full.
        }

        // Take the last partial chunk too.
        for (var size = chunk.Length / 2; size > 0; size /= 2)
        {
            try
            {
                file.Write(chunk, 0, size);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void Run(string command, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardError = true, UseShellExecute = false })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', args)} failed ({process.ExitCode}): {error}. This test mounts a small tmpfs and needs root.");
    }
}
