using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

/// <summary>
/// One thread that sleeps in epoll_wait(7) for every open port and wakes a port's reader when its tty becomes readable or
/// hangs up. A tty fd cannot join .NET's socket event loop; this gives it the same shape: a quiet line costs no CPU and no
/// wake-ups (a 20 ms poll loop on the thread pool cost ~3 % of a core per port, mostly pool threads spinning after each
/// wake-up), and bytes or a hang-up are seen at once.
/// </summary>
/// <remarks>
/// Each wait arms the fd with EPOLLONESHOT: one event per wait, so a hung-up fd (whose EPOLLHUP stays set) cannot make
/// the thread spin, and an event that arrives after its waiter gave up only causes one spurious, harmless re-check.
/// epoll_ctl(2) is safe to call while another thread sits in epoll_wait(2).
/// </remarks>
internal sealed class TtyReadiness
{
    private const int MaxEventsPerWake = 64;

    private static readonly Lazy<TtyReadiness> SharedInstance = new(() => new TtyReadiness());

    private readonly int epollFd;
    private readonly ConcurrentDictionary<ulong, Action> readers = new();
    private long lastId;

    private TtyReadiness()
    {
        epollFd = Interop.EpollCreate1(Interop.EpollCloexec);
        if (epollFd < 0)
        {
            throw new IOException($"epoll_create1 failed, errno {Marshal.GetLastPInvokeError()}.");
        }

        // A background thread: it holds no state worth flushing, and must not keep the process alive.
        new Thread(WaitLoop) { IsBackground = true, Name = "tty readiness" }.Start();
    }

    /// <summary>The process-wide instance, started on first use.</summary>
    public static TtyReadiness Shared => SharedInstance.Value;

    /// <summary>Registers a port's wake-up callback (run on the readiness thread: keep it short) and returns its id.</summary>
    public ulong Add(Action onReady)
    {
        ulong id = (ulong)Interlocked.Increment(ref lastId);
        readers[id] = onReady;
        return id;
    }

    /// <summary>Arms <paramref name="fd"/> for one readable-or-hang-up event. Returns 0, or the errno of epoll_ctl(2).</summary>
    /// <param name="fd">The tty.</param>
    /// <param name="id">The id <see cref="Add"/> returned.</param>
    /// <param name="first">True for the first arm of this fd (EPOLL_CTL_ADD), false to re-arm (EPOLL_CTL_MOD).</param>
    public unsafe int Arm(int fd, ulong id, bool first)
    {
        // EPOLLHUP and EPOLLERR are always reported (epoll_ctl(2)); no need to ask for them.
        var ev = new EpollEvent { Events = Interop.EpollIn | Interop.EpollOneShot, Data = id };
        return Interop.EpollCtl(epollFd, first ? Interop.EpollCtlAdd : Interop.EpollCtlMod, fd, &ev) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Forgets a port. Call while its fd is still open; late events for it are ignored.</summary>
    public unsafe void Remove(int fd, ulong id)
    {
        readers.TryRemove(id, out _);
        _ = Interop.EpollCtl(epollFd, Interop.EpollCtlDel, fd, null); // ENOENT when it was never armed: fine
    }

    private unsafe void WaitLoop()
    {
        var events = stackalloc EpollEvent[MaxEventsPerWake];
        while (true)
        {
            int n = Interop.EpollWait(epollFd, events, MaxEventsPerWake, -1);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.EIntr)
                {
                    continue;
                }

                // Only a broken epoll fd or buffer gets here, and then no port could ever be read again: fail loudly.
                Environment.FailFast($"tty readiness: epoll_wait failed, errno {errno}.");
            }

            for (int i = 0; i < n; i++)
            {
                if (readers.TryGetValue(events[i].Data, out var onReady))
                {
                    onReady();
                }
            }
        }
    }
}
