namespace Vitals.Devices.Serial;

/// <summary>A serial device found on this machine.</summary>
/// <param name="Path">Device node, for example <c>/dev/ttyUSB0</c>.</param>
/// <param name="Driver">Kernel driver name (ftdi_sio, pl2303, ch341-uart, cdc_acm, serial8250, ...), when known.</param>
/// <param name="StablePaths">Stable <c>/dev/serial/by-id</c> and <c>/dev/serial/by-path</c> links that point to it; prefer these in configuration.</param>
public sealed record SerialPortInfo(string Path, string? Driver, IReadOnlyList<string> StablePaths);

/// <summary>Lists serial ports from sysfs (<c>/sys/class/tty</c>), like <c>setserial -g</c> or pyserial's list_ports.</summary>
public static class SerialPortList
{
    /// <summary>Lists real serial devices: ttys with a backing device, excluding virtual consoles and the phantom legacy 8250 ports.</summary>
    public static IReadOnlyList<SerialPortInfo> List(string sysClassTty = "/sys/class/tty", string devRoot = "/dev")
    {
        if (!Directory.Exists(sysClassTty))
        {
            return [];
        }

        var links = StableLinks(System.IO.Path.Combine(devRoot, "serial"));
        var result = new List<SerialPortInfo>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(sysClassTty).Order(StringComparer.Ordinal))
        {
            string name = System.IO.Path.GetFileName(entry);
            string deviceDir = System.IO.Path.Combine(entry, "device");
            if (!Directory.Exists(deviceDir))
            {
                continue; // tty0..63, ptmx, console: no hardware behind them
            }

            string? driver = LinkName(System.IO.Path.Combine(deviceDir, "driver"));
            string? subsystem = LinkName(System.IO.Path.Combine(deviceDir, "subsystem"));

            // The 8250 driver registers ttyS0-31 on the "platform" bus whether or not a UART exists; real ones sit on pnp/pci.
            if (driver == "serial8250" && subsystem == "platform")
            {
                continue;
            }

            string path = System.IO.Path.Combine(devRoot, name);
            result.Add(new SerialPortInfo(path, driver, links.TryGetValue(name, out var l) ? l : []));
        }

        return result;
    }

    /// <summary>Resolves a configured path (for example a <c>/dev/serial/by-id/...</c> link) to the device node it names now.</summary>
    public static string Resolve(string path)
    {
        var target = File.ResolveLinkTarget(path, returnFinalTarget: true);
        return target?.FullName ?? path;
    }

    private static Dictionary<string, List<string>> StableLinks(string serialDir)
    {
        var map = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var sub in new[] { "by-id", "by-path" })
        {
            string dir = System.IO.Path.Combine(serialDir, sub);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var link in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
            {
                string target = System.IO.Path.GetFileName(Resolve(link));
                if (!map.TryGetValue(target, out var list))
                {
                    map[target] = list = [];
                }

                list.Add(link);
            }
        }

        return map;
    }

    private static string? LinkName(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.LinkTarget is { } t ? System.IO.Path.GetFileName(t) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
