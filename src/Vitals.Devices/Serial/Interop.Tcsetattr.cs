using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>tcsetattr(3).</summary>
    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    internal static unsafe partial int Tcsetattr(int fd, int optionalActions, Termios* termios);
}
