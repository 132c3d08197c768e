using System.Runtime.InteropServices;

namespace Vitals.Devices.Serial;

internal static partial class Interop
{
    /// <summary>posix_openpt(3): opens a pseudo-terminal master.</summary>
    [LibraryImport("libc", EntryPoint = "posix_openpt", SetLastError = true)]
    internal static partial int PosixOpenpt(int flags);
}
