using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>epoll_create1(2).</summary>
    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);
}
