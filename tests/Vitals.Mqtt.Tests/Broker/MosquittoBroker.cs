using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vitals.Mqtt.Tests.Broker;

/// <summary>
/// A real mosquitto on 127.0.0.1 with four listeners on free ports: anonymous, password, TLS and mutual TLS (test CA
/// made with openssl at start). Killed on dispose. Also used by the benchmark. mosquitto cannot bind port 0 (it means a
/// unix socket there), so ports are picked first; when another process takes one before mosquitto binds it, mosquitto
/// exits and the broker starts again on fresh ports.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    public const string User = "gateway";
    public const string Password = "correct horse";

    private static readonly SemaphoreSlim CertificateGate = new(1, 1);
    private static string? _certificateDirectory;

    private readonly string _configFile;
    private const int StartAttempts = 10;
    private readonly StringBuilder _log = new();
    private Process? _process;
    private TaskCompletionSource? _running;

    private MosquittoBroker(string directory, string configFile, int port, int passwordPort, int tlsPort, int mutualTlsPort, string certificates)
    {
        MutualTlsPort = mutualTlsPort;
        ClientCertificateFile = Path.Combine(certificates, "client.crt");
        ClientKeyFile = Path.Combine(certificates, "client.key");
        Directory = directory;
        _configFile = configFile;
        Port = port;
        PasswordPort = passwordPort;
        TlsPort = tlsPort;
        CaFile = Path.Combine(certificates, "ca.crt");
        WrongCaFile = Path.Combine(certificates, "wrong-ca.crt");
    }

    public string Directory { get; }

    /// <summary>The running mosquitto's process id (for CPU and memory figures), or null while stopped.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Anonymous listener.</summary>
    public int Port { get; }

    /// <summary>Listener that needs <see cref="User"/>/<see cref="Password"/>.</summary>
    public int PasswordPort { get; }

    /// <summary>TLS listener (anonymous) whose certificate is signed by <see cref="CaFile"/>.</summary>
    public int TlsPort { get; }

    /// <summary>TLS listener that requires a client certificate signed by <see cref="CaFile"/>.</summary>
    public int MutualTlsPort { get; }

    public string CaFile { get; }

    public string ClientCertificateFile { get; }

    public string ClientKeyFile { get; }

    /// <summary>A CA that did not sign the broker certificate.</summary>
    public string WrongCaFile { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>
    /// Starts a broker; <paramref name="persistence"/> keeps sessions, retained and queued messages across <see cref="RestartAsync"/>;
    /// <paramref name="extraConfig"/> goes before the listeners, <paramref name="bridgeConfig"/> (a <c>connection</c> section) after them.
    /// </summary>
    public static async Task<MosquittoBroker> StartAsync(bool persistence = false, string extraConfig = "", string bridgeConfig = "")
    {
        var certificates = await EnsureCertificatesAsync();
        var directory = System.IO.Directory.CreateTempSubdirectory("vitals-mosquitto-").FullName;
        var passwordFile = Path.Combine(directory, "passwd");
        await Run("mosquitto_passwd", ["-c", "-b", passwordFile, User, Password], directory);

        var configFile = Path.Combine(directory, "mosquitto.conf");
        for (var attempt = 1; ; attempt++)
        {
            int[] ports = [FreePort(), FreePort(), FreePort(), FreePort()];
            await File.WriteAllTextAsync(configFile, Config(ports, persistence, directory, passwordFile, certificates, extraConfig, bridgeConfig));
            var broker = new MosquittoBroker(directory, configFile, ports[0], ports[1], ports[2], ports[3], certificates);
            try
            {
                await broker.LaunchAsync();
                return broker;
            }
            catch (PortTakenException) when (attempt < StartAttempts)
            {
                // Another process bound one of the ports after FreePort released it: pick fresh ones.
                broker._process?.Dispose();
            }
        }
    }

    private static string Config(int[] ports, bool persistence, string directory, string passwordFile, string certificates, string extraConfig, string bridgeConfig)
    {

        // One setting per line and no trailing comments: mosquitto 2.0 rejects both (see shared/FACTS.md).
        var config = $"""
            user root
            per_listener_settings true
            persistence {(persistence ? "true" : "false")}
            persistence_location {directory}/
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information
            {extraConfig}
            listener {ports[0]} 127.0.0.1
            allow_anonymous true
            listener {ports[1]} 127.0.0.1
            allow_anonymous false
            password_file {passwordFile}
            listener {ports[2]} 127.0.0.1
            allow_anonymous true
            cafile {certificates}/ca.crt
            certfile {certificates}/server.crt
            keyfile {certificates}/server.key
            listener {ports[3]} 127.0.0.1
            allow_anonymous true
            cafile {certificates}/ca.crt
            certfile {certificates}/server.crt
            keyfile {certificates}/server.key
            require_certificate true
            {bridgeConfig}

            """;
        return config;
    }

    /// <summary>Stops the broker gracefully (SIGTERM, so a persistent broker saves its state).</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        await Run("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], Directory);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts the stopped broker again on the same ports.</summary>
    public Task RestartAsync() => LaunchAsync();

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp dir left behind is harmless.
        }
    }

    /// <summary>Runs a program (mosquitto_pub, mosquitto_sub, openssl) to completion with a timeout; returns stdout.</summary>
    public static async Task<string> Run(string program, IReadOnlyList<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null, string? stdin = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in time.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}");
        }

        return await stdout;
    }

    /// <summary>A TCP port free on 127.0.0.1 right now (the OS picks it).</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<string> EnsureCertificatesAsync()
    {
        await CertificateGate.WaitAsync();
        try
        {
            if (_certificateDirectory is not null)
            {
                return _certificateDirectory;
            }

            var dir = System.IO.Directory.CreateTempSubdirectory("vitals-mqtt-certs-").FullName;
            string[] ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
            await Run("openssl", ["req", "-x509", .. ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Vitals Test CA"], dir);
            await Run("openssl", ["req", "-x509", .. ec, "-keyout", "wrong-ca.key", "-out", "wrong-ca.crt", "-days", "2", "-subj", "/CN=Vitals Wrong CA"], dir);
            await Run("openssl", ["req", "-x509", "-CA", "ca.crt", "-CAkey", "ca.key", .. ec, "-keyout", "server.key", "-out", "server.crt", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-addext", "basicConstraints=critical,CA:FALSE"], dir);
            await Run("openssl", ["req", "-x509", "-CA", "ca.crt", "-CAkey", "ca.key", .. ec, "-keyout", "client.key", "-out", "client.crt", "-days", "2",
                "-subj", "/CN=vitals-gateway", "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=clientAuth"], dir);
            _certificateDirectory = dir;
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try
                {
                    System.IO.Directory.Delete(dir, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort at exit.
                }
            };
            return dir;
        }
        finally
        {
            CertificateGate.Release();
        }
    }

    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo("/usr/sbin/mosquitto")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(_configFile);
        var running = _running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(info) ?? throw new InvalidOperationException("Cannot start mosquitto.");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        // "running" is logged once every listener is bound; a bind that fails ends mosquitto instead.
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(running.Task, exited, Task.Delay(Eventually.DefaultTimeout)) is var first && first != running.Task && first != exited)
        {
            process.Kill();
            throw new TimeoutException($"mosquitto did not report running within {Eventually.DefaultTimeout}: {Log}");
        }

        if (!running.Task.IsCompleted)
        {
            await exited; // the output is drained into the log
            var log = Log;
            var failure = $"mosquitto exited with {process.ExitCode}: {log}";
            throw log.Contains("Address already in use", StringComparison.Ordinal) ? new PortTakenException(failure) : new InvalidOperationException(failure);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }

        // "mosquitto version 2.0.11 running"
        if (line.EndsWith(" running", StringComparison.Ordinal) && line.Contains("mosquitto version", StringComparison.Ordinal))
        {
            _running?.TrySetResult();
        }
    }

    private sealed class PortTakenException(string message) : InvalidOperationException(message);
}
