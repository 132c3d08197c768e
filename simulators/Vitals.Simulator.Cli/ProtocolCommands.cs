using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Serial;

namespace Vitals.Simulator.Cli;

/// <summary>
/// <c>vitals-sim serial</c> and <c>vitals-sim hl7</c>: the simulated monitor speaking a real protocol, over a pty (or a
/// serial port) and over TCP/MLLP to a gateway on this machine. Simulated data only.
/// </summary>
public static class ProtocolCommands
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The <c>serial</c> verb; the pty path and reports go to <paramref name="output"/>, problems to <paramref name="error"/>.</summary>
    public static Command Serial(TextWriter output, TextWriter error)
    {
        var protocol = new Option<string>("--protocol") { Description = "Serial protocol: masimo (Masimo ASCII 1).", DefaultValueFactory = _ => "masimo" };
        var (scenario, seed, timeScale, stepMs, count) = Common();
        var pty = new Option<bool>("--pty") { Description = "Create a pty pair, print the slave path (give it to the gateway as the device's port) and write to the master end." };
        var port = new Option<string?>("--port") { Description = "Write to this serial port instead (9600 8N1), for example the far end of a null-modem pair." };
        var exc = new Option<string>("--exc") { Description = "Masimo EXC bits in hex, for example 000020 (sensor off); default 000800 (SET mode, no condition).", DefaultValueFactory = _ => "000800" };
        var serial = new Option<string>("--serial") { Description = "Simulated serial number (SN=).", DefaultValueFactory = _ => "0000012345" };
        var command = new Command("serial", "Act as a Masimo oximeter on a pty or serial port: one ASCII 1 line per monitor second.")
        {
            protocol, scenario, seed, timeScale, stepMs, count, pty, port, exc, serial,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(protocol) != "masimo")
            {
                return Usage(error, $"--protocol: '{parse.GetValue(protocol)}' is not a serial protocol the simulator speaks. Fix: use masimo.");
            }

            if (parse.GetValue(pty) == (parse.GetValue(port) is not null))
            {
                return Usage(error, "give exactly one of --pty or --port PATH.");
            }

            if (!uint.TryParse(parse.GetValue(exc), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var bits))
            {
                return Usage(error, $"--exc: '{parse.GetValue(exc)}' is not hex. Fix: use for example 000020.");
            }

            if (!TryPatient(parse, scenario, seed, timeScale, stepMs, out var patient, out var step, out var problem))
            {
                return Usage(error, problem);
            }

            var time = TimeProvider.System;
            PseudoTerminal? master = null;
            ISerialPort? tty = null;
            try
            {
                if (parse.GetValue(pty))
                {
                    master = PseudoTerminal.Open();
                    output.WriteLine(master.SlavePath);
                    output.Flush();
                }
                else
                {
                    tty = LinuxSerialPort.Open(new SerialPortSettings { Path = parse.GetValue(port)! });
                }

                var readings = new List<SimReading>();
                var drain = new byte[4096];
                var limit = parse.GetValue(count);
                var written = 0;
                using var timer = new PeriodicTimer(step, time);
                while ((limit == 0 || written < limit) && await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                {
                    readings.Clear();
                    patient!.Step(readings);
                    if (patient.IsSilent)
                    {
                        continue;
                    }

                    var line = Encoding.ASCII.GetBytes(MasimoAsciiWriter.Format(readings, time.GetLocalNow().DateTime, parse.GetValue(serial)!, bits));
                    if (master is not null)
                    {
                        master.Write(line);

                        // Until the reader puts the tty in raw mode it echoes; drain so the echo never fills the pty.
                        master.Read(drain, TimeSpan.Zero);
                    }
                    else
                    {
                        await tty!.WriteAsync(line, ct).ConfigureAwait(false);
                    }

                    written++;
                }

                return 0;
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
            catch (IOException e)
            {
                error.WriteLine($"vitals-sim: {e.Message}");
                return 1;
            }
            finally
            {
                master?.Dispose();
                if (tty is not null)
                {
                    await tty.DisposeAsync().ConfigureAwait(false);
                }
            }
        });
        return command;
    }

    /// <summary>The <c>hl7</c> verb; the ACK report goes to <paramref name="output"/>, problems to <paramref name="error"/>.</summary>
    public static Command Hl7(TextWriter output, TextWriter error)
    {
        var connect = new Option<string>("--connect") { Description = "Gateway MLLP listener as 127.0.0.1:PORT (loopback only).", Required = true };
        var bed = new Option<string>("--bed") { Description = "Bed sent in PV1-3 (the gateway maps it to a chair).", Required = true };
        var (scenario, seed, timeScale, stepMs, count) = Common();
        var command = new Command("hl7", "Act as a monitor sending HL7 ORU^R01 (IHE PCD-01) over MLLP; checks each ACK is AA for the right control id and reports counts.")
        {
            connect, bed, scenario, seed, timeScale, stepMs, count,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (!IPEndPoint.TryParse(parse.GetValue(connect)!, out var endPoint) || endPoint.Port == 0)
            {
                return Usage(error, $"--connect: '{parse.GetValue(connect)}' is not address:port. Fix: use 127.0.0.1:2575.");
            }

            if (!IPAddress.IsLoopback(endPoint.Address))
            {
                return Usage(error, "--connect: the simulator only talks to this machine. Fix: use 127.0.0.1:PORT.");
            }

            if (!TryPatient(parse, scenario, seed, timeScale, stepMs, out var patient, out var step, out var problem))
            {
                return Usage(error, problem);
            }

            var time = TimeProvider.System;
            int sent = 0, accepted = 0, errors = 0, mismatched = 0;
            var limit = parse.GetValue(count);
            try
            {
                await using var client = await MllpClient.ConnectAsync(endPoint.Address.ToString(), endPoint.Port, TimeSpan.FromSeconds(5), time, ct).ConfigureAwait(false);
                var readings = new List<SimReading>();
                using var timer = new PeriodicTimer(step, time);
                while ((limit == 0 || sent < limit) && await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                {
                    readings.Clear();
                    patient!.Step(readings);
                    if (patient.IsSilent)
                    {
                        continue;
                    }

                    var id = string.Create(CultureInfo.InvariantCulture, $"SIM{sent + 1:D6}");
                    var message = Hl7OruWriter.Format(readings, time.GetUtcNow(), parse.GetValue(bed)!, id);
                    var ack = await client.SendAsync(Encoding.UTF8.GetBytes(message), AckTimeout, ct).ConfigureAwait(false);
                    sent++;
                    if (!Hl7Ack.TryParse(ack, out var parsed) || parsed is null || parsed.AcknowledgedControlId != id)
                    {
                        mismatched++;
                    }
                    else if (parsed.Code == Hl7AckCode.Accept)
                    {
                        accepted++;
                    }
                    else
                    {
                        errors++;
                        error.WriteLine($"vitals-sim: {id} answered {parsed.Code}: {parsed.ErrorText}");
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e) when (sent == 0 && Refused(e))
            {
                error.WriteLine($"vitals-sim: nothing accepts HL7 at {endPoint} (connection refused). Fix: start the gateway with an HL7 listener (config hl7.listen, or a device of kind hl7) and use its port.");
                output.WriteLine(Report(sent, accepted, errors, mismatched));
                return 1;
            }
            catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException)
            {
                error.WriteLine($"vitals-sim: {e.Message}");
                output.WriteLine(Report(sent, accepted, errors, mismatched));
                return 1;
            }

            output.WriteLine(Report(sent, accepted, errors, mismatched));
            return accepted == sent ? 0 : 1;
        });
        return command;
    }

    /// <summary>True when the connection was refused (no listener on that port), however the transport wrapped it.</summary>
    private static bool Refused(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    private static string Report(int sent, int accepted, int errors, int mismatched) =>
        string.Create(CultureInfo.InvariantCulture, $"sent {sent}, AA {accepted}, AE/AR {errors}, bad or mismatched ACK {mismatched}");

    /// <summary>What <c>--count</c> means, the same in every protocol.</summary>
    internal const string CountHelp = "Stop after this many lines, messages or publishes (seconds in which the monitor sends nothing do not count); 0 = run until Ctrl+C.";

    /// <summary>The <c>--scenario</c> option every command takes.</summary>
    internal static Option<string> ScenarioOption() =>
        new("--scenario") { Description = $"Scenario: {string.Join(", ", Scenarios.Names)}.", DefaultValueFactory = _ => "stable" };

    /// <summary>The scenario named by <paramref name="option"/>, or false with the message naming the choices.</summary>
    internal static bool TryScenario(ParseResult parse, Option<string> option, out ScenarioKind kind, out string error)
    {
        error = Scenarios.TryParse(parse.GetValue(option), out kind)
            ? ""
            : $"--scenario: unknown scenario '{parse.GetValue(option)}'. Fix: use one of {string.Join(", ", Scenarios.Names)}.";
        return error.Length == 0;
    }

    private static (Option<string> Scenario, Option<int> Seed, Option<double> TimeScale, Option<int> StepMs, Option<int> Count) Common() =>
    (
        ScenarioOption(),
        new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 },
        new Option<double>("--time-scale") { Description = "Scenario minutes per monitor minute.", DefaultValueFactory = _ => 1 },
        new Option<int>("--step-ms") { Description = "Real milliseconds per monitor second (1000 = real time; smaller plays faster).", DefaultValueFactory = _ => 1000 },
        new Option<int>("--count") { Description = CountHelp, DefaultValueFactory = _ => 0 });

    private static bool TryPatient(
        ParseResult parse, Option<string> scenario, Option<int> seed, Option<double> timeScale, Option<int> stepMs,
        out SimulatedPatient? patient, out TimeSpan step, out string error)
    {
        patient = null;
        step = TimeSpan.Zero;
        error = "";
        if (!TryScenario(parse, scenario, out var kind, out error))
        {
            return false;
        }

        var scale = parse.GetValue(timeScale);
        var ms = parse.GetValue(stepMs);
        if (scale is <= 0 or > 10_000 || ms is < 1 or > 60_000)
        {
            error = "--time-scale must be above 0 and at most 10000; --step-ms 1 to 60000.";
            return false;
        }

        patient = new SimulatedPatient(new SimulatorOptions(kind, parse.GetValue(seed), scale));
        step = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine($"vitals-sim: {message}");
        return 2;
    }
}
