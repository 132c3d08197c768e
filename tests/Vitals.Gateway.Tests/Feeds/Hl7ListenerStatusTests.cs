using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;
using Vitals.Simulator;

namespace Vitals.Gateway.Tests.Feeds;

/// <summary>
/// The HL7 listener's connection counters (idle-closed, evicted, refused) on <c>GET /api/status</c>, each provoked through
/// the configured limits. A provocation is repeated until its counter moves, because which of two things happens first
/// (an idle timeout, a message finishing) depends on the machine's speed; the counters themselves are checked exactly.
/// </summary>
public sealed class Hl7ListenerStatusTests : IAsyncDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(2);
    private readonly List<TcpClient> clients = [];
    private GatewayHost? host;
    private int port;

    public async ValueTask DisposeAsync()
    {
        Close();
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Status_Hl7Listener_CountsIdleClosedEvictedAndRefusedConnections()
    {
        var options = new GatewayOptions
        {
            Site = "test-site",
            Hl7 = new Hl7Options { Listen = "127.0.0.1:0", ChairRule = "pv1Bed", TimeZone = "UTC", IdleTimeoutSeconds = 5, MaxConnectionsPerSource = 2 },
            Chairs = [new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "mon-1", Kind = "hl7", Match = "BED1" }] }],
        };
        Assert.Empty(options.Validate());
        host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));
        port = host.App.Services.GetRequiredService<Hl7FeedService>().LocalEndPoint!.Port;
        Assert.Equal(new Counts(0, 0, 0, 0, 0), await CountsAsync());

        // Idle: a connection that sends nothing for hl7.idleTimeoutSeconds is closed by the gateway.
        var idle = Connect();
        await Eventually.TrueAsync(async () => (await CountsAsync()).IdleClosed == 1, "the idle connection to be counted as closed", Generous);
        Assert.Equal(0, await ReadOrResetAsync(idle)); // closed from the gateway's side
        Close();

        // Evicted: a third connection from one address at hl7.maxConnectionsPerSource = 2 closes the longest-idle one.
        await ProvokeAsync(
            async () =>
            {
                var before = await CountsAsync();
                Connect();
                Connect();
                await Eventually.TrueAsync(
                    async () => await CountsAsync() is { } c && (c.Open == 2 || c.IdleClosed > before.IdleClosed), "two connections open", Generous);
                Connect();

                // Room is made at once on accept, or (on a machine slow enough) the idle timeout got there first.
                await Eventually.TrueAsync(
                    async () => await CountsAsync() is { } c && (c.Evicted > before.Evicted || c.IdleClosed > before.IdleClosed), "room made", Generous);
            },
            c => c.Evicted,
            "a connection evicted at the per-source cap");

        // Refused: at the cap with both connections busy (their messages wait for a store another process has locked),
        // a new connection is closed at once instead.
        await ProvokeAsync(
            async () =>
            {
                using var locker = new SqliteConnection($"Data Source={Path.Combine(host.DataDir, "vitals.db")};Pooling=False");
                locker.Open();
                using (var begin = locker.CreateCommand())
                {
                    begin.CommandText = "BEGIN IMMEDIATE;";
                    begin.ExecuteNonQuery();
                }

                foreach (var n in new[] { 1, 2 })
                {
                    var lastFrame = await LastFrameAtAsync();
                    await SendAsync(Connect(), $"R{n}");
                    await Eventually.TrueAsync(async () => await LastFrameAtAsync() != lastFrame, $"message R{n} received", Generous);
                }

                var before = await CountsAsync();
                var third = Connect();
                await Eventually.TrueAsync(
                    async () => await CountsAsync() is { } c && (c.Refused > before.Refused || c.Evicted > before.Evicted), "the third connection refused or room made", Generous);
                if ((await CountsAsync()).Refused > before.Refused)
                {
                    Assert.Equal(0, await ReadOrResetAsync(third)); // closed without a word
                }
            },
            c => c.Refused,
            "a connection refused at the per-source cap");

        var final = await CountsAsync();
        Assert.True(final is { IdleClosed: >= 1, Evicted: >= 1, Refused: >= 1, Faults: 0 }, $"{final}");
    }

    [Fact]
    public async Task Status_Hl7ListenerOnPort0_NamedByTheBoundAddress()
    {
        var options = new GatewayOptions
        {
            Site = "test-site",
            Hl7 = new Hl7Options { Listen = "127.0.0.1:0", TimeZone = "UTC" },
            Chairs = [new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "mon-1", Kind = "hl7", Match = "BED1" }] }],
        };
        Assert.Empty(options.Validate());
        host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));
        port = host.App.Services.GetRequiredService<Hl7FeedService>().LocalEndPoint!.Port;

        using var status = await StatusAsync();
        var listener = status.RootElement.GetProperty("feeds").EnumerateArray().Single(f => f.GetProperty("kind").GetString() == "hl7-listener");

        Assert.NotEqual(0, port);
        Assert.Equal($"mllp:127.0.0.1:{port}", listener.GetProperty("device").GetString()); // where a monitor can connect, not ":0"
    }

    /// <summary>Runs <paramref name="attempt"/> (from no open connection) until <paramref name="counter"/> moves; every connection is closed after each try.</summary>
    private async Task ProvokeAsync(Func<Task> attempt, Func<Counts, long> counter, string what)
    {
        await Eventually.TrueAsync(
            async () =>
            {
                await Eventually.TrueAsync(async () => (await CountsAsync()).Open == 0, "every connection closed", Generous);
                var before = counter(await CountsAsync());
                await attempt();
                var moved = counter(await CountsAsync()) > before;
                Close();
                return moved;
            },
            what,
            Generous);
    }

    private TcpClient Connect()
    {
        var client = new TcpClient();
        clients.Add(client);
        client.Connect(IPAddress.Loopback, port);
        return client;
    }

    private void Close()
    {
        clients.ForEach(c => c.Dispose());
        clients.Clear();
    }

    /// <summary>Bytes read (0: the peer closed); a reset counts as closed too.</summary>
    private static async Task<int> ReadOrResetAsync(TcpClient client)
    {
        try
        {
            return await client.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(Generous);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static async Task SendAsync(TcpClient client, string controlId)
    {
        var message = Hl7OruWriter.Format([new SimReading(Sign.Hr, 72, TimeSpan.Zero)], DateTimeOffset.UtcNow, "BED1", controlId);
        await client.GetStream().WriteAsync((byte[])[0x0B, .. Encoding.UTF8.GetBytes(message), 0x1C, 0x0D]);
    }

    private async Task<JsonDocument> StatusAsync() => JsonDocument.Parse(await host!.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));

    private async Task<Counts> CountsAsync()
    {
        using var status = await StatusAsync();
        var listener = status.RootElement.GetProperty("feeds").EnumerateArray().Single(f => f.GetProperty("kind").GetString() == "hl7-listener");
        return listener.GetProperty("connections").Deserialize<Counts>(TestJson.Options)!;
    }

    /// <summary>When the listener last received a message from this machine (set on arrival, before the message is stored and answered).</summary>
    private async Task<string?> LastFrameAtAsync()
    {
        using var status = await StatusAsync();
        return status.RootElement.GetProperty("hl7Sources").EnumerateArray().Select(s => s.TryGetProperty("lastFrameAt", out var at) ? at.GetString() : null).FirstOrDefault();
    }

    private sealed record Counts(int Open, long IdleClosed, long Evicted, long Refused, long Faults);
}
