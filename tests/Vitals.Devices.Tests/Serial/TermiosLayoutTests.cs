using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vitals.Devices.Serial;

namespace Vitals.Devices.Tests.Serial;

public class TermiosLayoutTests
{
    [Fact]
    public void Termios_GlibcX64Layout_MatchesHeader()
    {
        // glibc bits/termios-struct.h on x86_64: 4 tcflag_t, c_line, c_cc[32], c_ispeed, c_ospeed = 60 bytes.
        Assert.Equal(60, Unsafe.SizeOf<Termios>());
        Assert.Equal(0, (int)Marshal.OffsetOf<Termios>(nameof(Termios.IFlag)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Termios>(nameof(Termios.CFlag)));
        Assert.Equal(16, (int)Marshal.OffsetOf<Termios>(nameof(Termios.Line)));
        Assert.Equal(17, (int)Marshal.OffsetOf<Termios>(nameof(Termios.Cc)));
        Assert.Equal(52, (int)Marshal.OffsetOf<Termios>(nameof(Termios.ISpeed)));
        Assert.Equal(56, (int)Marshal.OffsetOf<Termios>(nameof(Termios.OSpeed)));
    }

    [Fact]
    public void Termios2_KernelLayout_Is44Bytes()
    {
        // asm-generic/termbits.h: NCCS 19, so c_ispeed at 36 and c_ospeed at 40.
        Assert.Equal(44, Unsafe.SizeOf<Termios2>());
        Assert.Equal(17, (int)Marshal.OffsetOf<Termios2>(nameof(Termios2.Cc)));
        Assert.Equal(36, (int)Marshal.OffsetOf<Termios2>(nameof(Termios2.ISpeed)));
        Assert.Equal(40, (int)Marshal.OffsetOf<Termios2>(nameof(Termios2.OSpeed)));
    }

    [Fact]
    public void IoctlNumbers_EncodeTermios2Size_AsIorIow()
    {
        // _IOR('T', 0x2A, struct termios2) = dir 2 << 30 | size << 16 | 'T' << 8 | nr.
        uint size = (uint)Unsafe.SizeOf<Termios2>();
        Assert.Equal(Interop.TcGets2, (2u << 30) | (size << 16) | ('T' << 8) | 0x2A);
        Assert.Equal(Interop.TcSets2, (1u << 30) | (size << 16) | ('T' << 8) | 0x2B);
    }

    [Fact]
    public void EpollEvent_X64Layout_IsPacked12Bytes()
    {
        // sys/epoll.h: struct epoll_event is __attribute__((packed)) on x86_64: uint32 events, then the 64-bit data at 4.
        Assert.Equal(12, Unsafe.SizeOf<EpollEvent>());
        Assert.Equal(4, (int)Marshal.OffsetOf<EpollEvent>(nameof(EpollEvent.Data)));
    }
}
