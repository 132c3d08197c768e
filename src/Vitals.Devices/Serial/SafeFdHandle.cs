using Microsoft.Win32.SafeHandles;

namespace Vitals.Devices.Serial;

/// <summary>Owns a file descriptor. Reads hold a reference, so Dispose from another thread cannot close an fd mid-poll.</summary>
internal sealed class SafeFdHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeFdHandle(int fd)
        : base(ownsHandle: true) => SetHandle(fd);

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Interop.Close((int)handle) == 0;
}
