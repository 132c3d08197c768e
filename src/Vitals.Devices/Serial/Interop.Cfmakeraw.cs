using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>cfmakeraw(3): no echo, no canonical mode, no signals, 8 bits.</summary>
    [LibraryImport("libc", EntryPoint = "cfmakeraw")]
    internal static unsafe partial void Cfmakeraw(Termios* termios);
}
