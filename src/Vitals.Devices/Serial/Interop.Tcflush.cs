using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>tcflush(3): drops bytes queued before we configured the port.</summary>
    [LibraryImport("libc", EntryPoint = "tcflush", SetLastError = true)]
    internal static partial int Tcflush(int fd, int queueSelector);
}
