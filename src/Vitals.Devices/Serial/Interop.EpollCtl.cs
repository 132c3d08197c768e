using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

/// <summary><c>struct epoll_event</c>: packed on x86_64 (sys/epoll.h <c>__EPOLL_PACKED</c>), 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct EpollEvent
{
    public uint Events;
    public ulong Data;
}

internal static partial class Interop
{
    /// <summary>epoll_ctl(2).</summary>
    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static unsafe partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);
}
