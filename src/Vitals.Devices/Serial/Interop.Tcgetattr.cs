using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>tcgetattr(3).</summary>
    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    internal static unsafe partial int Tcgetattr(int fd, Termios* termios);
}
