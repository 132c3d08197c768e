// Receive throughput: our MqttClient vs mosquitto_sub on the same QoS 0 stream from one local mosquitto.
// Usage: dotnet run -c Release --project tests/Vitals.Mqtt.Benchmarks -- [messages=200000] [payloadBytes=200] [publisher=vitals|mosquitto_pub]
// The default publisher is our own client (queue sized to hold the whole run, so nothing is dropped): mosquitto_pub -l
// tops out near 16k msg/s here, which would measure the publisher rather than the subscribers.
using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;

var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
var payloadBytes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
var useMosquittoPub = args.Length > 2 && args[2] == "mosquitto_pub";
var inv = CultureInfo.InvariantCulture;

// Unlimited per-client queues so the broker does not drop QoS 0 messages for either subscriber.
await using var broker = await MosquittoBroker.StartAsync(extraConfig: "log_type subscribe\nmax_queued_messages 0\nmax_queued_bytes 0");
var port = broker.Port.ToString(inv);
const string Topic = "bench/site1/chair1/obs";

// One line per message for mosquitto_pub -l; ~payloadBytes each, JSON-like.
var lines = new StringBuilder();
for (var i = 0; i < count; i++)
{
    var head = $"{{\"seq\":{i},\"hr\":72,\"spo2\":98,\"nibp_sys\":118,\"pad\":\"";
    lines.Append(head).Append('x', Math.Max(0, payloadBytes - head.Length - 2)).Append("\"}\n");
}

var dataFile = Path.Combine(broker.Directory, "payloads.txt");
await File.WriteAllTextAsync(dataFile, lines.ToString());

// Our subscriber: decode every packet into an MqttMessage and read it from the channel, as the gateway would.
await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "vitals-bench", ReceiveCapacity = 50_000 });
await client.ConnectAsync();
await client.SubscribeAsync("bench/#", MqttQualityOfService.AtMostOnce);
long ourLast = 0;
long ourBytes = 0;
var ourCount = 0;
var ours = Task.Run(async () =>
{
    var reader = client.Messages;
    while (ourCount < count && await reader.WaitToReadAsync())
    {
        while (reader.TryRead(out var message))
        {
            ourBytes += message.Payload.Length;
            if (++ourCount == count)
            {
                break;
            }
        }
    }

    ourLast = Stopwatch.GetTimestamp();
});

// mosquitto_sub prints every message to /dev/null and exits after the last (-C).
var sub = Process.Start(new ProcessStartInfo("sh", ["-c", $"exec mosquitto_sub -h 127.0.0.1 -p {port} -i bench-mosquitto-sub -t 'bench/#' -q 0 -C {count} -W 300 > /dev/null"]))!;
var waitForSub = Stopwatch.StartNew();
while (!broker.Log.Contains("bench-mosquitto-sub 0 bench/#", StringComparison.Ordinal))
{
    if (waitForSub.Elapsed > TimeSpan.FromSeconds(10))
    {
        sub.Kill();
        throw new TimeoutException("mosquitto_sub did not subscribe within 10 s; broker log:\n" + broker.Log);
    }

    await Task.Delay(20);
}

var start = Stopwatch.GetTimestamp();
if (useMosquittoPub)
{
    using var pub = Process.Start(new ProcessStartInfo("sh", ["-c", $"exec mosquitto_pub -h 127.0.0.1 -p {port} -t {Topic} -q 0 -l < {dataFile}"]))!;
    await pub.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
}
else
{
    await using var publisher = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "vitals-bench-pub", MaxQueuedQos0 = count });
    await publisher.ConnectAsync();
    var all = lines.ToString();
    var offset = 0;
    for (var i = 0; i < count; i++)
    {
        var end = all.IndexOf('\n', offset);
        await publisher.PublishAsync(Topic, Encoding.UTF8.GetBytes(all, offset, end - offset));
        offset = end + 1;
    }

    await publisher.FlushAsync().WaitAsync(TimeSpan.FromMinutes(5));
    if (publisher.DroppedQos0Count > 0)
    {
        throw new InvalidOperationException($"publisher dropped {publisher.DroppedQos0Count} messages");
    }
}

var published = Stopwatch.GetTimestamp();
var subExited = sub.WaitForExitAsync();
var finished = await Task.WhenAny(Task.WhenAll(ours, subExited), Task.Delay(TimeSpan.FromMinutes(5)));
var subLast = sub.HasExited ? Stopwatch.GetTimestamp() : 0;
if (!sub.HasExited)
{
    sub.Kill();
}

var subOk = sub.HasExited && sub.ExitCode == 0;

double Rate(long end) => end == 0 ? 0 : count / Stopwatch.GetElapsedTime(start, end).TotalSeconds;
var ourRate = ourCount == count ? Rate(ourLast) : 0;
var subRate = subOk ? Rate(subLast) : 0;

// Decode-only ceiling: the same stream as PUBLISH packets in memory, framed and decoded by MqttPacketReader.
var wire = new ArrayBufferWriter<byte>();
var sample = Encoding.UTF8.GetBytes(lines.ToString(0, payloadBytes));
for (var i = 0; i < 10_000; i++)
{
    MqttPacketWriter.Write(new PublishPacket(Topic, sample), wire);
}

var packetReader = new MqttPacketReader();
var decodeStart = Stopwatch.GetTimestamp();
var decoded = 0;
for (var round = 0; round < 50; round++)
{
    var buffer = new ReadOnlySequence<byte>(wire.WrittenMemory);
    while (packetReader.TryReadPacket(ref buffer, out _))
    {
        decoded++;
    }
}

var decodeRate = decoded / Stopwatch.GetElapsedTime(decodeStart).TotalSeconds;

Console.WriteLine($"messages: {count} x {payloadBytes} B QoS 0 published by {(useMosquittoPub ? "mosquitto_pub -l" : "Vitals.Mqtt client")}; publisher done after {Stopwatch.GetElapsedTime(start, published).TotalSeconds:0.00} s");
Console.WriteLine($"Vitals.Mqtt client : {ourCount,8} received, {ourRate,10:0} msg/s");
Console.WriteLine($"mosquitto_sub      : {(subOk ? count : 0),8} received, {subRate,10:0} msg/s{(subOk ? string.Empty : " (did not finish)")}");
Console.WriteLine($"ratio ours/mosquitto_sub: {(subRate > 0 ? ourRate / subRate : 0):0.00} (target >= 0.80)");
Console.WriteLine($"decode only (MqttPacketReader, in memory): {decodeRate:0} msg/s");
return finished is Task t && t.IsCompletedSuccessfully && ourCount == count && subOk ? 0 : 1;
