using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

/// <summary>
/// A Linux tty opened with termios (System.IO.Ports is not available here). Follows termios(3), tty_ioctl(4) and poll(2):
/// open non-blocking with exclusive access, raw mode, speed via TCSETS2 + BOTHER and read back, non-blocking reads woken
/// by epoll(7) (<see cref="TtyReadiness"/>).
/// </summary>
public sealed class LinuxSerialPort : ISerialPort
{
    /// <summary>How long a write waits for room in one poll(2) before checking cancellation.</summary>
    internal const int PollSliceMs = 100;

    /// <summary>poll(2) revents meaning the device is gone.</summary>
    private const short HangUpEvents = Interop.PollHup | Interop.PollErr | Interop.PollNval;

    private readonly SafeFdHandle handle;
    private readonly TtyReadiness readiness = TtyReadiness.Shared;
    private readonly ulong readinessId;
    private TaskCompletionSource? readable;
    private bool armed; // touched only by the one reader
    private int disposed;

    private LinuxSerialPort(SafeFdHandle handle, SerialPortSettings settings)
    {
        this.handle = handle;
        Settings = settings;
        readinessId = readiness.Add(WakeReader);
    }

    /// <inheritdoc />
    public SerialPortSettings Settings { get; }

    /// <summary>Opens and configures <paramref name="settings"/>.Path. Throws <see cref="IOException"/> with the reason.</summary>
    /// <param name="settings">Port and line settings.</param>
    public static LinuxSerialPort Open(SerialPortSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.EnsureValid();
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("LinuxSerialPort needs Linux termios.");
        }

        // open(2): O_NOCTTY so the device never becomes our controlling terminal; O_NONBLOCK so open does not wait for DCD.
        int fd = Interop.Open(settings.Path, Interop.ORdwr | Interop.ONoctty | Interop.ONonblock | Interop.OCloexec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                Interop.ENoent or Interop.ENodev or Interop.ENxio => new SerialPortGoneException($"{settings.Path}: no such device (errno {errno}); is it plugged in?"),
                Interop.EAcces => new IOException($"{settings.Path}: permission denied; add the service user to the 'dialout' group."),
                _ => new IOException($"{settings.Path}: open failed, errno {errno}."),
            };
        }

        var handle = new SafeFdHandle(fd);
        try
        {
            Configure(fd, settings);
            return new LinuxSerialPort(handle, settings);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static unsafe void Configure(int fd, SerialPortSettings s)
    {
        // tty_ioctl(4) TIOCEXCL: further open(2) of this tty fail with EBUSY (except for root), so two feeds cannot share it.
        Check(Interop.Ioctl(fd, Interop.TiocExcl, null), s, "ioctl(TIOCEXCL)");

        Termios t;
        Check(Interop.Tcgetattr(fd, &t), s, "tcgetattr");
        Interop.Cfmakeraw(&t);
        t.CFlag |= Interop.CLocal | Interop.CRead; // ignore modem lines, enable the receiver
        t.CFlag &= ~(Interop.CSize | Interop.CStopB | Interop.ParEnb | Interop.ParOdd | Interop.CRtsCts);
        t.CFlag |= s.DataBits == 7 ? Interop.CS7 : Interop.CS8;
        if (s.StopBits == 2)
        {
            t.CFlag |= Interop.CStopB;
        }

        t.IFlag &= ~(Interop.InPck | Interop.IxOn | Interop.IxOff | Interop.IxAny);
        if (s.Parity != Parity.None)
        {
            t.CFlag |= Interop.ParEnb | (s.Parity == Parity.Odd ? Interop.ParOdd : 0);
            t.IFlag |= Interop.InPck; // bytes with parity errors arrive as NUL and fail the frame, not silently wrong digits
        }

        switch (s.FlowControl)
        {
            case FlowControl.RtsCts:
                t.CFlag |= Interop.CRtsCts;
                break;
            case FlowControl.XonXoff:
                t.IFlag |= Interop.IxOn | Interop.IxOff;
                t.Cc[Interop.VStart] = 0x11;
                t.Cc[Interop.VStop] = 0x13;
                break;
            case FlowControl.None:
            default:
                break;
        }

        // Non-blocking fd plus poll(2): VMIN/VTIME do not matter, but 0/0 keeps a stray blocking read from hanging.
        t.Cc[Interop.VMin] = 0;
        t.Cc[Interop.VTime] = 0;
        Check(Interop.Tcsetattr(fd, Interop.TcsaNow, &t), s, "tcsetattr");

        SetSpeed(fd, s);
        _ = Interop.Tcflush(fd, Interop.TcIoFlush);
    }

    /// <summary>
    /// Sets the speed with TCSETS2 + BOTHER, which takes the rate as a number. This avoids the glibc 2.42 change
    /// where speed_t became the numeric rate (old Bxxx constants silently set a wrong speed). Reads back and fails loudly.
    /// </summary>
    private static unsafe void SetSpeed(int fd, SerialPortSettings s)
    {
        Termios2 t2;
        Check(Interop.Ioctl(fd, Interop.TcGets2, &t2), s, "ioctl(TCGETS2)");
        t2.CFlag &= ~(Interop.CBaud | (Interop.CBaud << Interop.IbShift));
        t2.CFlag |= Interop.BOther; // input speed bits 0 = same as output
        t2.ISpeed = (uint)s.BaudRate;
        t2.OSpeed = (uint)s.BaudRate;
        int setErrno = Interop.Ioctl(fd, Interop.TcSets2, &t2) < 0 ? Marshal.GetLastPInvokeError() : 0;

        Termios2 back;
        Check(Interop.Ioctl(fd, Interop.TcGets2, &back), s, "ioctl(TCGETS2) read-back");
        if (SpeedRefused(s, setErrno, back.OSpeed, back.ISpeed) is { } refused)
        {
            throw new IOException(refused);
        }
    }

    /// <summary>
    /// Why the driver did not take the speed (it failed TCSETS2, or reads back another rate), naming the setting to fix;
    /// null when it runs at the speed asked for.
    /// </summary>
    internal static string? SpeedRefused(SerialPortSettings s, int setErrno, uint actualOut, uint actualIn)
    {
        string fix = $"Fix: set {s.BaudRateKey} to a rate this adapter supports, the same as on the monitor.";
        if (setErrno != 0)
        {
            return $"{s.Path}: the driver refused {s.BaudRate} baud (ioctl TCSETS2 errno {setErrno}). {fix}";
        }

        return SpeedMatches(s.BaudRate, actualOut) && SpeedMatches(s.BaudRate, actualIn)
            ? null
            : $"{s.Path}: asked for {s.BaudRate} baud but the driver set {actualOut} out / {actualIn} in; refusing to run at the wrong speed. {fix}";
    }

    /// <summary>UART receivers tolerate about 2 % clock error; drivers may report the nearest rate their divisor reaches.</summary>
    internal static bool SpeedMatches(int wanted, uint actual) => Math.Abs((long)actual - wanted) * 50 <= wanted;

    /// <summary>Reads the speed the driver currently reports (TCGETS2), for diagnostics and tests.</summary>
    public unsafe int GetActualBaudRate()
    {
        using var lease = handle.Borrow();
        Termios2 t2;
        Check(Interop.Ioctl(lease.Fd, Interop.TcGets2, &t2), Settings, "ioctl(TCGETS2)");
        return (int)t2.OSpeed;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Reads what is waiting without blocking; when the line is quiet, sleeps until <see cref="TtyReadiness"/> reports the
    /// tty readable or hung up. No thread is held and nothing wakes while the line is quiet; cancellation and
    /// <see cref="DisposeAsync"/> end the wait at once.
    /// </remarks>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            int n = TryRead(buffer.Span, cancellationToken);
            if (n > 0)
            {
                return n;
            }

            // Nothing yet: a quiet line is "no data yet", not end of stream.
            await WaitReadableAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Arms the fd for one readiness event; the task completes on bytes, hang-up or dispose.</summary>
    private Task WaitReadableAsync()
    {
        // Published before arming, so an event that fires the instant the fd is armed finds it.
        var wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref readable, wait);
        using var lease = handle.Borrow(); // ObjectDisposedException once disposed
        int errno = readiness.Arm(lease.Fd, readinessId, first: !armed);
        if (errno != 0)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            throw new IOException($"{Settings.Path}: epoll_ctl failed, errno {errno}.");
        }

        armed = true;
        return wait.Task;
    }

    /// <summary>Runs on the readiness thread: hands the wake-up to the reader's continuation and returns.</summary>
    private void WakeReader() => Interlocked.Exchange(ref readable, null)?.TrySetResult();

    /// <summary>One non-blocking poll(2) + read(2): bytes read, 0 when none are waiting; throws when the device went away.</summary>
    private unsafe int TryRead(Span<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        using var lease = handle.Borrow();
        int fd = lease.Fd;
        var pfd = new PollFd { Fd = fd, Events = Interop.PollIn };
        int ready = Interop.Poll(&pfd, 1, 0);
        if (ready < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == Interop.EIntr ? 0 : throw new IOException($"{Settings.Path}: poll failed, errno {errno}.");
        }

        if (ready == 0)
        {
            return 0;
        }

        if ((pfd.REvents & Interop.PollIn) != 0)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Interop.Read(fd, p, (nuint)buffer.Length);
            }

            if (n > 0)
            {
                return (int)n;
            }

            int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (n < 0 && (errno == Interop.EAgain || errno == Interop.EIntr))
            {
                return 0;
            }

            // read(2) returning 0 after poll said readable, or EIO/ENODEV: the tty was hung up (unplug, pty master closed).
            throw new SerialPortGoneException(n == 0
                ? $"{Settings.Path}: end of file; the device hung up."
                : $"{Settings.Path}: read failed, errno {errno}; the device went away.");
        }

        if ((pfd.REvents & HangUpEvents) != 0)
        {
            throw new SerialPortGoneException($"{Settings.Path}: hang-up (poll revents 0x{pfd.REvents:x}); the device went away.");
        }

        return 0;
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(Task.Factory.StartNew(
            () => WriteBlocking(buffer, cancellationToken),
            cancellationToken,
            TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default));
    }

    private unsafe void WriteBlocking(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        using var lease = handle.Borrow();
        int fd = lease.Fd;
        using var pin = buffer.Pin();
        byte* p = (byte*)pin.Pointer;
        int written = 0;
        while (written < buffer.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            nint n = Interop.Write(fd, p + written, (nuint)(buffer.Length - written));
            if (n > 0)
            {
                written += (int)n;
                continue;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (n < 0 && errno == Interop.EIntr)
            {
                continue;
            }

            if (n < 0 && errno != Interop.EAgain)
            {
                throw errno is Interop.EIo or Interop.ENodev or Interop.ENxio
                    ? new SerialPortGoneException($"{Settings.Path}: write failed, errno {errno}; the device went away.")
                    : new IOException($"{Settings.Path}: write failed, errno {errno}.");
            }

            // Output queue full (flow control holding us): wait for room.
            var pfd = new PollFd { Fd = fd, Events = Interop.PollOut };
            _ = Interop.Poll(&pfd, 1, PollSliceMs);
            if ((pfd.REvents & HangUpEvents) != 0)
            {
                throw new SerialPortGoneException($"{Settings.Path}: hang-up while writing; the device went away.");
            }
        }
    }

    /// <summary>Closes the port. An in-flight read ends at once with <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            using (var lease = handle.Borrow())
            {
                readiness.Remove(lease.Fd, readinessId);
            }

            handle.Dispose();
            WakeReader(); // its next TryRead sees the port disposed
        }

        return ValueTask.CompletedTask;
    }

    private static void Check(int result, SerialPortSettings s, string call)
    {
        if (result < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno == Interop.EBusy
                ? new IOException($"{s.Path}: {call} failed: the port is in use by another program (EBUSY).")
                : new IOException($"{s.Path}: {call} failed, errno {errno} ({s}).");
        }
    }
}

/// <summary>Opens <see cref="LinuxSerialPort"/>s.</summary>
public sealed class LinuxSerialPortFactory : ISerialPortFactory
{
    /// <inheritdoc />
    public ValueTask<ISerialPort> OpenAsync(SerialPortSettings settings, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult<ISerialPort>(LinuxSerialPort.Open(settings));
    }
}
