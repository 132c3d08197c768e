namespace Vitals.Devices.Serial;

/// <summary>Parity bit setting.</summary>
public enum Parity
{
    None,
    Even,
    Odd,
}

/// <summary>Hardware or software flow control.</summary>
public enum FlowControl
{
    None,
    RtsCts,
    XonXoff,
}

/// <summary>How to open and configure a serial tty. Defaults are 9600 8N1 without flow control (Masimo ASCII 1).</summary>
public sealed record SerialPortSettings
{
    /// <summary>Default baud rate (Masimo serial output, Nonin 7500/9600).</summary>
    public const int DefaultBaudRate = 9600;

    /// <summary>Lowest baud rate accepted.</summary>
    public const int MinBaudRate = 1200;

    /// <summary>
    /// Highest baud rate accepted: the fastest common USB-serial UARTs (FTDI FT232H, 12 Mbaud). Any rate up to it is passed
    /// to the driver with BOTHER; what the driver really accepts is checked on open by reading the speed back.
    /// </summary>
    public const int MaxBaudRate = 12_000_000;

    /// <summary>Device path, for example <c>/dev/ttyUSB0</c> or a stable <c>/dev/serial/by-id/...</c> link.</summary>
    public required string Path { get; init; }

    /// <summary>Baud rate, any integer from 1200 to 12,000,000 (set with BOTHER, so non-standard rates such as 250000 work where the UART allows).</summary>
    public int BaudRate { get; init; } = DefaultBaudRate;

    /// <summary>The configuration key that sets <see cref="BaudRate"/>, named when the driver refuses the speed on open.</summary>
    public string BaudRateKey { get; init; } = nameof(BaudRate);

    /// <summary>Data bits, 7 or 8.</summary>
    public int DataBits { get; init; } = 8;

    /// <summary>Parity.</summary>
    public Parity Parity { get; init; } = Parity.None;

    /// <summary>Stop bits, 1 or 2.</summary>
    public int StopBits { get; init; } = 1;

    /// <summary>Flow control.</summary>
    public FlowControl FlowControl { get; init; } = FlowControl.None;

    /// <summary>Returns every problem with the settings, each naming the setting; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Path))
        {
            errors.Add("Path: a device path such as /dev/ttyUSB0 or /dev/serial/by-id/... is required.");
        }
        else if (!Path.StartsWith('/'))
        {
            errors.Add($"Path: '{Path}' must be an absolute path such as /dev/ttyUSB0.");
        }

        if (BaudRate is < MinBaudRate or > MaxBaudRate)
        {
            errors.Add($"BaudRate: {BaudRate} is outside {MinBaudRate}-{MaxBaudRate}.");
        }

        if (DataBits is not (7 or 8))
        {
            errors.Add($"DataBits: {DataBits} is not supported; use 7 or 8.");
        }

        if (StopBits is not (1 or 2))
        {
            errors.Add($"StopBits: {StopBits} is not supported; use 1 or 2.");
        }

        if (!Enum.IsDefined(Parity))
        {
            errors.Add($"Parity: {(int)Parity} is not one of None, Even, Odd.");
        }

        if (!Enum.IsDefined(FlowControl))
        {
            errors.Add($"FlowControl: {(int)FlowControl} is not one of None, RtsCts, XonXoff.");
        }

        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem, for fail-fast startup.</summary>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid serial port settings: " + string.Join(" ", errors));
        }
    }

    /// <summary>Short form such as <c>9600 8N1</c> for logs.</summary>
    public override string ToString() =>
        $"{Path} {BaudRate} {DataBits}{Parity.ToString()[0]}{StopBits}" + (FlowControl == FlowControl.None ? string.Empty : $" {FlowControl}");
}
