using System.Runtime.InteropServices;
using System.Text;

namespace Vitals.Devices.Serial;

/// <summary>
/// A pty pair (posix_openpt(3), grantpt(3), unlockpt(3), ptsname_r(3)). The slave path behaves like
/// <c>/dev/ttyUSB0</c> for code under test; the master end plays the monitor. Used by tests and the simulator.
/// Disposing the master hangs up the slave, as unplugging a USB adapter does.
/// </summary>
public sealed class PseudoTerminal : IDisposable
{
    private readonly SafeFdHandle master;

    private PseudoTerminal(SafeFdHandle master, string slavePath)
    {
        this.master = master;
        SlavePath = slavePath;
    }

    /// <summary>Path of the slave end, for example <c>/dev/pts/3</c>.</summary>
    public string SlavePath { get; }

    /// <summary>Opens a new pty pair.</summary>
    public static unsafe PseudoTerminal Open()
    {
        int fd = Interop.PosixOpenpt(Interop.ORdwr | Interop.ONoctty | Interop.OCloexec);
        if (fd < 0)
        {
            throw new IOException($"posix_openpt failed, errno {Marshal.GetLastPInvokeError()}.");
        }

        var handle = new SafeFdHandle(fd);
        try
        {
            if (Interop.Grantpt(fd) != 0 || Interop.Unlockpt(fd) != 0)
            {
                throw new IOException($"grantpt/unlockpt failed, errno {Marshal.GetLastPInvokeError()}.");
            }

            byte* name = stackalloc byte[128];
            int rc = Interop.PtsnameR(fd, name, 128);
            if (rc != 0)
            {
                throw new IOException($"ptsname_r failed, error {rc}.");
            }

            var raw = new ReadOnlySpan<byte>(name, 128);
            int length = raw.IndexOf((byte)0);
            string path = Encoding.UTF8.GetString(length < 0 ? raw : raw[..length]);
            return new PseudoTerminal(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Writes bytes from the "monitor" side (blocking; a pty buffers several KB).</summary>
    public unsafe void Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Interop.Write(master.Fd, p + done, (nuint)(data.Length - done));
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.EIntr)
                    {
                        continue;
                    }

                    throw new IOException($"pty master write failed, errno {errno}.");
                }

                done += (int)n;
            }
        }
    }

    /// <summary>Reads what the slave side wrote, waiting up to <paramref name="timeout"/>; 0 when nothing came.</summary>
    public unsafe int Read(Span<byte> buffer, TimeSpan timeout)
    {
        var pfd = new PollFd { Fd = master.Fd, Events = Interop.PollIn };
        if (Interop.Poll(&pfd, 1, (int)timeout.TotalMilliseconds) <= 0 || (pfd.REvents & Interop.PollIn) == 0)
        {
            return 0;
        }

        fixed (byte* p = buffer)
        {
            nint n = Interop.Read(master.Fd, p, (nuint)buffer.Length);
            return n > 0 ? (int)n : 0;
        }
    }

    /// <summary>Closes the master end; the slave sees a hang-up (POLLHUP, EIO).</summary>
    public void Dispose() => master.Dispose();
}
