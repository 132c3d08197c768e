using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

/// <summary><c>struct pollfd</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short REvents;
}

internal static partial class Interop
{
    /// <summary>poll(2).</summary>
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);
}
