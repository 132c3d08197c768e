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
        if (options.HasHl7Listener)
        {
            services.AddSingleton<Hl7FeedService>();
            services.AddHostedService(sp => sp.GetRequiredService<Hl7FeedService>());
        }

        services.AddHostedService<FeedSupervisor>();
        return services;
    }

    /// <summary>A feed task for one serial device and its status entry, registered under the device's chair.</summary>
    public static (Func<CancellationToken, Task> Run, FeedStatus Status) CreateSerial(GatewayOptions options, ChairOptions chair, DeviceOptions device, string path, IServiceProvider sp)
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
                Port = device.ToPortSettings(path),
                Site = options.Site,
                Chair = chair.Id,
                Device = device.Id,
                DeviceTimeZone = device.DeviceTimeZone(),
                Store = sp.GetRequiredService<StoreWriter>(), // an HL7 AA means committed; line codecs send no reply
            },
            new LinuxSerialPortFactory(),
            codec,
            sp.GetRequiredService<ObservationPipeline>().Writer,
            time);
        return (feed.RunAsync, sp.GetRequiredService<FeedRegistry>().Register(chair.Id, device.Id, DeviceOptions.SerialKind, feed.Counters));
    }
}

/// <summary>
/// The one MLLP listener: monitors and vendor gateways connect and send ORU^R01; the chair map comes from the chairs'
/// <c>hl7</c> devices. Counters: one listener-wide feed entry plus one per configured hl7 device (messages it sent).
/// Binding edits apply live (<see cref="ApplyChair"/>); the listen address and chair rule are read once at start.
/// </summary>
public sealed class Hl7FeedService : IHostedService, IAsyncDisposable
{
    private readonly GatewayOptions options;
    private readonly FeedRegistry feeds;
    private readonly MllpListener listener;
    private readonly string listen;
    private readonly FeedCounters counters = new();

    // Replaced whole on a binding change, never changed in place: connection handlers read it without a lock.
    private IReadOnlyList<Hl7Device> devices;

    /// <summary>Creates the listener (not yet bound).</summary>
    public Hl7FeedService(GatewayOptions options, FeedRegistry feeds, ObservationPipeline pipeline, StoreWriter store, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(feeds);
        this.options = options;
        this.feeds = feeds;
        var hl7 = options.Hl7 ?? new Hl7Options();
        var endPoint = hl7.ListenEndPoint;
        listen = hl7.Listen;
        listener = new MllpListener(
            new MllpListenerOptions
            {
                Address = endPoint.Address.ToString(),
                Port = endPoint.Port,
                MaxFrameSize = hl7.MaxFrameBytes,
                IdleTimeout = TimeSpan.FromSeconds(hl7.IdleTimeoutSeconds),
                AckWriteTimeout = TimeSpan.FromSeconds(hl7.AckWriteTimeoutSeconds),
                MaxConnectionsPerSource = hl7.MaxConnectionsPerSource,
                Store = store, // AA only once the message's readings are committed
                Site = options.Site,
                DeviceTimeZone = DeviceOptions.ResolveZone(hl7.TimeZone),
                Counters = counters,
                MessageHandled = OnMessage,
            },
            CreateCodec(options),
            pipeline.Writer,
            time);
        devices = [.. options.AllDevices().Where(d => d.Device.Kind == DeviceOptions.Hl7Kind).Select(d => Register(d.Chair.Id, d.Device))];
    }

    /// <summary>The listener-wide counters, registered once bound (named by the bound address: port 0 picks one).</summary>
    public FeedStatus? Listener { get; private set; }

    /// <summary>The bound endpoint once started (tests listen on port 0).</summary>
    public IPEndPoint? LocalEndPoint => listener.LocalEndPoint;

    /// <summary>Open connections.</summary>
    public int ActiveConnections => listener.ActiveConnections;

    /// <summary>Connections ended by an unexpected error in the gateway (not by the peer); should stay 0.</summary>
    public long ConnectionFaults => listener.ConnectionFaults;

    /// <summary>Per-source (remote address) counters.</summary>
    public IReadOnlyList<MllpSourceStats> Sources => listener.GetCounters();

    /// <summary>
    /// Applies the hl7 devices <paramref name="chair"/> has now (its devices were just replaced): every later message,
    /// on open connections too, is mapped with the new chair map; removed devices lose their feed entry, added ones get
    /// one, unchanged ones keep theirs. Call one change at a time.
    /// </summary>
    public void ApplyChair(ChairOptions chair)
    {
        ArgumentNullException.ThrowIfNull(chair);
        var before = Volatile.Read(ref devices);
        var after = before.Where(d => d.Chair != chair.Id).ToList();
        foreach (var device in chair.Devices.Where(d => d.Kind == DeviceOptions.Hl7Kind))
        {
            after.Add(before.FirstOrDefault(d => d.Chair == chair.Id && ChairBindings.SameDevice(d.Device, device)) ?? Register(chair.Id, device));
        }

        // Entries before the map: a message the new map sends to a chair always finds that chair's device entry.
        Volatile.Write(ref devices, after);
        listener.ReplaceCodec(CreateCodec(options));
        foreach (var gone in before.Except(after))
        {
            feeds.Remove(gone.Status);
        }
    }

    /// <summary>Marks hl7 devices connected while the listener has a connection and the device has sent something.</summary>
    public void RefreshConnected()
    {
        var open = listener.ActiveConnections > 0;
        foreach (var device in Volatile.Read(ref devices))
        {
            device.Status.SetConnected(open && device.Status.Counters.LastFrameAt is not null);
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

        Listener = feeds.Register("", $"mllp:{listener.LocalEndPoint}", "hl7-listener", counters, () => new ListenerConnections(
            listener.ActiveConnections, listener.IdleClosed, listener.Evicted, listener.Refused, listener.AckWriteTimeouts, listener.ConnectionFaults));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => listener.StopAsync();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => listener.DisposeAsync();

    /// <summary>The codec for the chairs' hl7 devices as configured now (a new instance: codecs are never changed in place).</summary>
    private static Hl7OruCodec CreateCodec(GatewayOptions options) => new(options.Hl7CodecOptions());

    private Hl7Device Register(string chair, DeviceOptions device) =>
        new(chair, device, feeds.Register(chair, device.Id, DeviceOptions.Hl7Kind));

    private void OnMessage(IReadOnlyList<Observation> observations, Hl7AckCode code)
    {
        if (code != Hl7AckCode.Accept || observations.Count == 0)
        {
            return;
        }

        // Attribute the message to the device whose match key it carries (equipment id or application), else the chair's first hl7 device.
        var now = observations[0].ReceivedAt;
        var current = Volatile.Read(ref devices);
        FeedStatus? last = null;
        foreach (var o in observations)
        {
            var status = Find(current, o.Chair, o.Device);
            if (status is not null && status != last)
            {
                status.FrameOk(now);
                last = status;
            }
        }
    }

    private static FeedStatus? Find(IReadOnlyList<Hl7Device> current, string chair, string device)
    {
        FeedStatus? first = null;
        foreach (var d in current)
        {
            if (d.Chair != chair)
            {
                continue;
            }

            if (string.Equals(d.Device.Match?.Trim(), device, StringComparison.OrdinalIgnoreCase))
            {
                return d.Status;
            }

            first ??= d.Status;
        }

        return first;
    }

    private sealed record Hl7Device(string Chair, DeviceOptions Device, FeedStatus Status);
}
