namespace Vitals.Devices.Serial;

/// <summary>An open serial port. Reads wait until at least one byte arrives and cancel promptly.</summary>
public interface ISerialPort : IAsyncDisposable
{
    /// <summary>Settings the port was opened with.</summary>
    SerialPortSettings Settings { get; }

    /// <summary>
    /// Reads at least one byte into <paramref name="buffer"/>. Quiet periods are "no data yet", never end of stream.
    /// Throws <see cref="SerialPortGoneException"/> when the device went away (unplugged, EIO/ENODEV, hang-up).
    /// </summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Writes all of <paramref name="buffer"/>.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>Opens serial ports; the seam feeds reconnect through.</summary>
public interface ISerialPortFactory
{
    /// <summary>Opens and configures a port; throws <see cref="IOException"/> when it cannot.</summary>
    ValueTask<ISerialPort> OpenAsync(SerialPortSettings settings, CancellationToken cancellationToken);
}

/// <summary>The device behind an open port went away (unplugged USB adapter, hang-up). Reconnect.</summary>
public sealed class SerialPortGoneException : IOException
{
    public SerialPortGoneException()
    {
    }

    public SerialPortGoneException(string message)
        : base(message)
    {
    }

    public SerialPortGoneException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
