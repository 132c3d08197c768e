using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>epoll_wait(2).</summary>
    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    internal static unsafe partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeoutMs);
}
