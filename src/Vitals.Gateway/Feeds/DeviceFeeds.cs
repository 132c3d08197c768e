using System.Net;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Devices.Hl7;
using Vitals.Devices.Line;
using Vitals.Devices.Mllp;
using Vitals.Devices.Serial;
using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Feeds;

/// <summary>Creates the real-device feeds (serial ttys, HL7/MLLP) from validated options.</summary>
public static class DeviceFeeds
{
    /// <summary>Registers the HL7 listener (when configured) and the feed supervisor.</summary>
    public static IServiceCollection AddDeviceFeeds(this IServiceCollection services, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(sp => new StalePolicy(options.StaleSeconds));
        if (options.HasHl7Listener)
        {
            services.AddSingleton<Hl7FeedService>();
            services.AddHostedService(sp => sp.GetRequiredService<Hl7FeedService>());
        }

        services.AddHostedService<FeedSupervisor>();
        return services;
    }

    /// <summary>A feed task for one serial device, its counters registered under the device's chair.</summary>
    public static Func<CancellationToken, Task> CreateSerial(GatewayOptions options, ChairOptions chair, DeviceOptions device, string path, IServiceProvider sp)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(chair);
        ArgumentNullException.ThrowIfNull(device);
        var time = sp.GetRequiredService<TimeProvider>();
        ISerialCodec codec = device.Codec == DeviceOptions.Hl7Codec
            ? new MllpSerialCodec(new Hl7OruCodec(), time.GetUtcNow()) // default chair rule: every message is this device's chair's
            : LineCodecs.Create(device.Codec, device.Codec == "line" ? options.LineConfigJson(device, path) : null);
        var feed = new SerialFeed(
            new SerialFeedOptions
            {
                Port = device.ToPortSettings(),
                Site = options.Site,
                Chair = chair.Id,
                Device = device.Id,
                DeviceTimeZone = device.DeviceTimeZone(),
            },
            new LinuxSerialPortFactory(time),
            codec,
            sp.GetRequiredService<ObservationPipeline>().Writer,
            time);
        sp.GetRequiredService<FeedRegistry>().Register(chair.Id, device.Id, DeviceOptions.SerialKind, feed.Counters);
        return feed.RunAsync;
    }
}

/// <summary>
/// The one MLLP listener: monitors and vendor gateways connect and send ORU^R01; the chair map comes from the chairs'
/// <c>hl7</c> devices. Counters: one listener-wide feed entry plus one per configured hl7 device (messages it sent).
/// </summary>
public sealed class Hl7FeedService : IHostedService, IAsyncDisposable
{
    private readonly MllpListener listener;
    private readonly string listen;
    private readonly List<(string Chair, string Match, FeedStatus Status)> devices = [];

    /// <summary>Creates the listener (not yet bound).</summary>
    public Hl7FeedService(GatewayOptions options, FeedRegistry feeds, ObservationPipeline pipeline, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(feeds);
        var hl7 = options.Hl7 ?? new Hl7Options();
        var map = options.Hl7ChairMap();
        var codec = new Hl7OruCodec(new Hl7CodecOptions
        {
            // With no hl7 device there is nothing to map to: every message is answered AE (never AA for data we drop).
            ChairRule = map.Count == 0 ? Hl7ChairRule.Feed : hl7.Rule,
            ChairMap = map,
        });
        var endPoint = hl7.ListenEndPoint;
        listen = hl7.Listen;
        Listener = feeds.Register("", $"mllp:{hl7.Listen}", "hl7-listener");
        foreach (var (chair, device, _) in options.AllDevices().Where(d => d.Device.Kind == DeviceOptions.Hl7Kind))
        {
            devices.Add((chair.Id, device.Match ?? "", feeds.Register(chair.Id, device.Id, DeviceOptions.Hl7Kind)));
        }

        listener = new MllpListener(
            new MllpListenerOptions
            {
                Address = endPoint.Address.ToString(),
                Port = endPoint.Port,
                MaxFrameSize = hl7.MaxFrameBytes,
                Site = options.Site,
                DeviceTimeZone = DeviceOptions.ResolveZone(hl7.TimeZone),
                Counters = Listener.Counters,
                MessageHandled = OnMessage,
            },
            codec,
            pipeline.Writer,
            time);
    }

    /// <summary>The listener-wide counters.</summary>
    public FeedStatus Listener { get; }

    /// <summary>The bound endpoint once started (tests listen on port 0).</summary>
    public IPEndPoint? LocalEndPoint => listener.LocalEndPoint;

    /// <summary>Open connections.</summary>
    public int ActiveConnections => listener.ActiveConnections;

    /// <summary>Per-source (remote address) counters.</summary>
    public IReadOnlyList<MllpSourceStats> Sources => listener.GetCounters();

    /// <summary>Marks hl7 devices connected while the listener has a connection and the device has sent something.</summary>
    public void RefreshConnected()
    {
        var open = listener.ActiveConnections > 0;
        foreach (var (_, _, status) in devices)
        {
            status.SetConnected(open && status.Counters.LastFrameAt is not null);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ConfigException">The address cannot be bound (in use, or not this machine's).</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            listener.Start();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ConfigException($"hl7.listen: cannot listen on {listen}: {e.Message}. Fix: stop the other program using the port or choose another, for example 127.0.0.1:2576.");
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => listener.StopAsync();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => listener.DisposeAsync();

    private void OnMessage(IReadOnlyList<Observation> observations, Hl7AckCode code)
    {
        if (code != Hl7AckCode.Accept || observations.Count == 0)
        {
            return;
        }

        // Attribute the message to the device whose match key it carries (equipment id or application), else the chair's first hl7 device.
        var now = observations[0].ReceivedAt;
        FeedStatus? last = null;
        foreach (var o in observations)
        {
            var status = Find(o.Chair, o.Device);
            if (status is not null && status != last)
            {
                status.FrameOk(now);
                last = status;
            }
        }
    }

    private FeedStatus? Find(string chair, string device)
    {
        FeedStatus? first = null;
        foreach (var (c, match, status) in devices)
        {
            if (c != chair)
            {
                continue;
            }

            if (string.Equals(match, device, StringComparison.OrdinalIgnoreCase))
            {
                return status;
            }

            first ??= status;
        }

        return first;
    }
}
