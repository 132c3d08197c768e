using System.Text;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;

namespace Vitals.Devices.Tests.Mllp;

/// <summary>
/// The MLLP listener the listener tests share: on 127.0.0.1 port 0, the test codec, site <c>clinic</c>, fallback chair
/// <c>chair-1</c>, the real clock unless a test passes its own; a test changes what it is about through <c>configure</c>.
/// </summary>
internal static class TestListener
{
    /// <summary>How long a connect, an ACK or a close may take: a limit for a busy machine, never a budget.</summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    /// <summary>Creates and starts a listener writing to <paramref name="output"/>, decoding with <paramref name="codec"/> (default: the test codec).</summary>
    public static MllpListener Start(ChannelWriter<Observation> output, Action<MllpListenerOptions>? configure = null, Hl7OruCodec? codec = null, TimeProvider? time = null)
    {
        var options = new MllpListenerOptions { Address = "127.0.0.1", Port = 0, Site = "clinic", Chair = "chair-1" };
        configure?.Invoke(options);
        var listener = new MllpListener(options, codec ?? Hl7TestData.Codec(), output, time ?? TimeProvider.System);
        listener.Start();
        return listener;
    }

    /// <summary>An MLLP client connected to <paramref name="listener"/>.</summary>
    public static Task<MllpClient> ConnectAsync(MllpListener listener) =>
        MllpClient.ConnectAsync("127.0.0.1", listener.LocalEndPoint!.Port, Generous);

    /// <summary>The ACK in <paramref name="ack"/>; fails showing the bytes when it is not one.</summary>
    public static Hl7Ack ParseAck(byte[] ack)
    {
        Assert.True(Hl7Ack.TryParse(ack, out var parsed), Encoding.ASCII.GetString(ack));
        return parsed!;
    }

    /// <summary>Waits for a condition on the listener (its counters, its channel) with the shared generous limit.</summary>
    public static Task WaitUntil(Func<bool> condition, string what = "the listener's condition") => Eventually.TrueAsync(condition, what);
}
