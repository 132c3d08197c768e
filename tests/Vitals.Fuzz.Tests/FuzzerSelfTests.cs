using System.Buffers;
using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Feeds;
using Vitals.Devices.Masimo;
using Vitals.Fuzz.Targets;

namespace Vitals.Fuzz.Tests;

/// <summary>The fuzzer can fail: defects planted in wrappers around real codecs are found, minimized and saved.</summary>
public sealed class FuzzerSelfTests
{
    [Fact]
    public void Run_PlantedCrash_FoundMinimizedAndSaved()
    {
        var folder = Path.Combine(Path.GetTempPath(), "vitals-fuzz-selftest-" + Guid.NewGuid().ToString("N"));
        try
        {
            var report = Fuzzer.Run(new PlantedCrashTarget(), new FuzzOptions { Duration = TimeSpan.FromMinutes(2), Seed = 3, SaveDirectory = folder, MaxFindings = 1 });

            var finding = Assert.Single(report.Findings);
            Assert.StartsWith("IndexOutOfRangeException", finding.Signature, StringComparison.Ordinal);
            Assert.True(PlantedCrashTarget.Triggers(finding.Input));
            Assert.True(finding.Input.Length <= 4, $"not minimized: {finding.Input.Length} bytes");
            Assert.Equal(finding.Input, File.ReadAllBytes(finding.SavedPath!));
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public void Run_FramerThatIgnoresLaterSegments_ChunkedFeedingDisagreesWithWhole()
    {
        var report = Fuzzer.Run(new FirstSegmentOnlyTarget(), new FuzzOptions { Duration = TimeSpan.FromMinutes(2), Seed = 5, MaxFindings = 1 });

        var finding = Assert.Single(report.Findings);
        Assert.StartsWith("invariant: fed", finding.Signature, StringComparison.Ordinal);
    }

    /// <summary>The real Masimo target, but a line holding a NUL right after "=" crashes (an index bug planted).</summary>
    private sealed class PlantedCrashTarget : FuzzTarget
    {
        private readonly MasimoTarget real = new();

        public override string Name => "planted";

        public override IReadOnlyList<byte[]> Dictionary => real.Dictionary;

        public override IReadOnlyList<byte[]> Seeds() => real.Seeds();

        public static bool Triggers(ReadOnlySpan<byte> input) => input.IndexOf("=\0"u8) >= 0;

        public override string Run(byte[] input) => Triggers(input) ? throw new IndexOutOfRangeException("planted") : real.Run(input);
    }

    /// <summary>Masimo with a framer that looks only at the first buffer segment: whole buffers work, chunked ones do not.</summary>
    private sealed class FirstSegmentOnlyTarget : SerialCodecTarget
    {
        private readonly MasimoTarget real = new();

        public override string Name => "first-segment";

        public override IReadOnlyList<byte[]> Dictionary => real.Dictionary;

        protected override SourceProtocol Source => SourceProtocol.Masimo;

        public override IReadOnlyList<byte[]> Seeds() => real.Seeds();

        protected override IEnumerable<Func<ISerialCodec>> Codecs() => [() => new FirstSegmentOnly(new MasimoCodec(256))];
    }

    private sealed class FirstSegmentOnly(MasimoCodec inner) : ISerialCodec
    {
        public SourceProtocol Protocol => inner.Protocol;

        public int MaxFrameBytes => 256;

        public long DiscardedFrames => 0;

        public string DiscardedFrameReason => string.Empty;

        public void ResetFraming()
        {
        }

        public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
        {
            var first = buffer.FirstSpan;
            var lf = first.IndexOf((byte)'\n');
            if (lf < 0)
            {
                frame = default;
                if (buffer.Length > MaxFrameBytes)
                {
                    buffer = buffer.Slice(buffer.End);
                }

                return false;
            }

            frame = buffer.Slice(0, lf);
            buffer = buffer.Slice(lf + 1);
            return true;
        }

        public DecodeResult Decode(ReadOnlySpan<byte> frame, DecodeContext context, ICollection<Observation> output) => inner.Decode(frame, context, output);
    }
}
