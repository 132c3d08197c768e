using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vitals.Mqtt.Tests.Broker;

/// <summary>
/// A RabbitMQ cluster with the <c>rabbitmq_mqtt</c> plugin on loopback (Debian <c>rabbitmq-server</c> 3.10): every node
/// has its own node name, AMQP, distribution and MQTT port (all free ports on 127.0.0.1), its own data and log
/// directories under one temp directory, and the shared Erlang cookie; a private epmd on a free port keeps the nodes
/// away from any other Erlang on the machine. The second and later nodes <c>join_cluster</c> the first. Every process
/// is killed and the directory removed on dispose. In this version retained MQTT messages stay on the node that
/// received them, and are not sent to subscriptions with wildcards at all.
/// </summary>
public sealed class RabbitMqCluster : IAsyncDisposable
{
    // Debian's package keeps the server scripts (which run as the calling user, unlike the /usr/sbin wrappers) here.
    private static readonly string ServerDirectory = Directory.Exists("/usr/lib/rabbitmq/lib")
        ? Directory.GetDirectories("/usr/lib/rabbitmq/lib", "rabbitmq_server-*").Order(StringComparer.Ordinal).Select(d => Path.Combine(d, "sbin")).LastOrDefault() ?? ""
        : "";

    private const int StartAttempts = 3;

    private readonly string directory;
    private readonly Process epmd;
    private readonly int epmdPort;
    private readonly List<Node> nodes = [];

    private RabbitMqCluster(string directory, Process epmd, int epmdPort)
    {
        this.directory = directory;
        this.epmd = epmd;
        this.epmdPort = epmdPort;
    }

    /// <summary>Each node's MQTT port, in node order (node 0 is the one the others joined).</summary>
    public IReadOnlyList<int> MqttPorts => [.. nodes.Select(n => n.MqttPort)];

    /// <summary>Each node's name (<c>vitals-a-xxxx@localhost</c>).</summary>
    public IReadOnlyList<string> NodeNames => [.. nodes.Select(n => n.Name)];

    /// <summary>How long starting the nodes and clustering them took.</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>The nodes' output so far (for a failing test's message).</summary>
    public string Log => string.Join("\n", nodes.Select(n => $"--- {n.Name}\n{n.Log}"));

    /// <summary>Starts <paramref name="count"/> nodes in parallel and clusters them.</summary>
    public static async Task<RabbitMqCluster> StartAsync(int count = 2)
    {
        if (!File.Exists(Path.Combine(ServerDirectory, "rabbitmq-server")))
        {
            throw new InvalidOperationException("rabbitmq-server is not installed. Fix: apt-get install -y rabbitmq-server (tests/run.sh does this).");
        }

        // Erlang and epmd cannot bind port 0 and report it, so ports are picked free and released first; another process
        // may take one before the node binds it. Such a start fails with eaddrinuse and is retried on fresh ports.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(count);
            }
            catch (PortTakenException) when (attempt < StartAttempts)
            {
            }
        }
    }

    private static async Task<RabbitMqCluster> StartOnceAsync(int count)
    {

        var clock = Stopwatch.StartNew();
        var directory = Directory.CreateTempSubdirectory("vitals-rabbitmq-").FullName;
        var home = Directory.CreateDirectory(Path.Combine(directory, "home")).FullName;
        var cookie = Path.Combine(home, ".erlang.cookie");
        await File.WriteAllTextAsync(cookie, "VITALS" + Guid.NewGuid().ToString("N").ToUpperInvariant());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(cookie, UnixFileMode.UserRead); // Erlang refuses a cookie others can read
        }

        // epmd as our own child (not -daemon), so dispose can stop exactly it.
        var epmdPort = MosquittoBroker.FreePort();
        var epmd = Process.Start(new ProcessStartInfo("epmd", ["-port", Invariant(epmdPort), "-address", "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("Cannot start epmd.");
        var cluster = new RabbitMqCluster(directory, epmd, epmdPort);
        try
        {
            await WaitListeningAsync(epmdPort, () => epmd.HasExited ? "epmd exited" : null, "epmd");
            var suffix = Guid.NewGuid().ToString("N")[..6];
            for (var i = 0; i < count; i++)
            {
                cluster.nodes.Add(cluster.StartNode($"vitals-{(char)('a' + i)}-{suffix}@localhost"));
            }

            foreach (var node in cluster.nodes)
            {
                await node.WaitStartedAsync();
            }

            foreach (var node in cluster.nodes.Skip(1))
            {
                await cluster.CtlAsync(node.Name, "stop_app");
                await cluster.CtlAsync(node.Name, "join_cluster", cluster.nodes[0].Name);
                await cluster.CtlAsync(node.Name, "start_app");
                await node.WaitStartedAsync();
            }

            var status = await cluster.CtlAsync(cluster.nodes[0].Name, "cluster_status", "--formatter", "json");
            foreach (var node in cluster.nodes)
            {
                if (!status.Contains(node.Name, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"{node.Name} is not in the cluster: {status}");
                }
            }

            cluster.StartTime = clock.Elapsed;
            return cluster;
        }
        catch (Exception e)
        {
            var portTaken = epmd.HasExited || cluster.Log.Contains("eaddrinuse", StringComparison.OrdinalIgnoreCase); // before dispose kills epmd
            await cluster.DisposeAsync();
            if (portTaken)
            {
                throw new PortTakenException($"A port was taken before RabbitMQ bound it: {e.Message}");
            }

            throw;
        }
    }

    /// <summary>Runs <c>rabbitmqctl -n <paramref name="node"/></c> with the cluster's cookie and epmd; returns its output.</summary>
    public async Task<string> CtlAsync(string node, params string[] arguments)
    {
        var info = new ProcessStartInfo(Path.Combine(ServerDirectory, "rabbitmqctl"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        Environment(info.Environment);
        foreach (var a in (string[])["-n", node, .. arguments])
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Cannot start rabbitmqctl.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"rabbitmqctl {string.Join(' ', arguments)} on {node} did not finish in time.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} on {node} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }

        return await stdout;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes)
        {
            await node.KillAsync();
        }

        if (!epmd.HasExited)
        {
            epmd.Kill();
            await epmd.WaitForExitAsync();
        }

        epmd.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp dir left behind is harmless.
        }
    }

    private static string Invariant(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static async Task WaitListeningAsync(int port, Func<string?> failed, string what)
    {
        await Eventually.TrueAsync(
            async () =>
            {
                if (failed() is { } reason)
                {
                    throw new InvalidOperationException(reason);
                }

                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            },
            $"{what} to listen on port {port}",
            TimeSpan.FromMinutes(3));
    }

    private void Environment(IDictionary<string, string?> env)
    {
        env["HOME"] = Path.Combine(directory, "home");
        env["ERL_EPMD_PORT"] = Invariant(epmdPort);
        env["ERL_EPMD_ADDRESS"] = "127.0.0.1";
    }

    private Node StartNode(string name)
    {
        var nodeDirectory = Directory.CreateDirectory(Path.Combine(directory, name.Split('@')[0])).FullName;
        int amqp = MosquittoBroker.FreePort(), dist = MosquittoBroker.FreePort(), mqtt = MosquittoBroker.FreePort();
        File.WriteAllText(Path.Combine(nodeDirectory, "enabled_plugins"), "[rabbitmq_mqtt].\n");
        File.WriteAllText(Path.Combine(nodeDirectory, "rabbitmq.conf"), $"""
            listeners.tcp.1 = 127.0.0.1:{amqp}
            mqtt.listeners.tcp.1 = 127.0.0.1:{mqtt}
            mqtt.allow_anonymous = true
            loopback_users = none

            """);
        var info = new ProcessStartInfo(Path.Combine(ServerDirectory, "rabbitmq-server"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = nodeDirectory,
        };
        Environment(info.Environment);
        info.Environment["RABBITMQ_NODENAME"] = name;
        info.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        info.Environment["RABBITMQ_NODE_PORT"] = Invariant(amqp);
        info.Environment["RABBITMQ_DIST_PORT"] = Invariant(dist);
        info.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(nodeDirectory, "rabbitmq");
        info.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(nodeDirectory, "enabled_plugins");
        info.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(nodeDirectory, "mnesia");
        info.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(nodeDirectory, "log");
        info.Environment["RABBITMQ_LOGS"] = "-";
        info.Environment["RABBITMQ_PID_FILE"] = Path.Combine(nodeDirectory, "pid");

        // Erlang distribution on loopback only (it listens on every interface by default).
        info.Environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        var process = Process.Start(info) ?? throw new InvalidOperationException("Cannot start rabbitmq-server.");
        var node = new Node(name, mqtt, process);
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    private sealed class Node(string name, int mqttPort, Process process)
    {
        private readonly StringBuilder log = new();

        public string Name { get; } = name;

        public int MqttPort { get; } = mqttPort;

        public string Log
        {
            get
            {
                lock (log)
                {
                    return log.ToString();
                }
            }
        }

        public void Append(string? line)
        {
            if (line is not null)
            {
                lock (log)
                {
                    log.AppendLine(line);
                }
            }
        }

        /// <summary>The MQTT listener accepts connections (it opens last, once the plugin has started).</summary>
        public Task WaitStartedAsync() =>
            WaitListeningAsync(MqttPort, () => process.HasExited ? $"{Name} exited with {process.ExitCode}: {Log}" : null, $"RabbitMQ node {Name}'s MQTT listener");

        public async Task KillAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }

    private sealed class PortTakenException(string message) : InvalidOperationException(message);
}
