using FsCheck;
using FsCheck.Fluent;
using Vitals.Core;
using Vitals.Devices.Hl7;
using static Vitals.Devices.Tests.Hl7.Hl7TestData;

namespace Vitals.Devices.Tests.Hl7;

public class Hl7CodecPropertyTests
{
    private static readonly byte[] Valid = EightObx();

    [Fact]
    public void Decode_RandomMutationsOfValidMessage_NeverThrowsAndKeepsValuesInBounds()
    {
        var codec = Codec();
        var mutation = Gen.Zip(Gen.Choose(0, Valid.Length - 1), Gen.Choose(0, 255)).ArrayOf();

        Prop.ForAll(mutation.ToArbitrary(), ((int Index, int Value)[] edits) =>
        {
            var message = (byte[])Valid.Clone();
            foreach (var (index, value) in edits)
            {
                message[index] = (byte)value;
            }

            var list = new List<Observation>();
            var result = codec.Decode(message, Context("c"), list);
            _ = codec.CreateAck(message, result, result.Ack, null, Received, "P1");
            return result.Result.Ok == (result.Ack == Hl7AckCode.Accept)
                && list.Count == result.Accepted
                && list.TrueForAll(o => o.Value >= o.Sign.Info().HardMin && o.Value <= o.Sign.Info().HardMax);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_RandomBytes_NeverThrowsAndNeverAccepts()
    {
        var codec = Codec();

        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), (byte[] bytes) =>
        {
            var list = new List<Observation>();
            var result = codec.Decode(bytes, Context("c"), list);
            return !result.Result.Ok && list.Count == 0;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Decode_EquipmentRuleNewObrWithoutObx18_DoesNotCarryPreviousDevice()
    {
        var codec = Codec(Hl7ChairRule.EquipmentId, ("EUI-A", "chair-a"));
        var message = Message(
            "MSH|^~\\&|GW|F|||20261121101530+0000||ORU^R01|E-1|P|2.6",
            "OBR|1|||x|||20261121101500+0000",
            "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||EUI-A",
            "OBX|2|NM|147842^^MDC|1.1.1.1|70|/min|||||R",
            "OBR|2|||x|||20261121101500+0000",
            "OBX|3|NM|147842^^MDC|1.1.1.1|90|/min|||||R");

        var (result, obs) = Decode(codec, message, Context(chair: ""));
        var (mapped, mappedObs) = Decode(codec, message, Context(chair: "feed-chair"));

        // Without a feed chair the second group has none: the whole message is refused (AE), no row kept.
        Assert.Empty(obs);
        Assert.Equal(1, result.Unmapped);
        Assert.Equal(Hl7AckCode.Error, result.Ack);

        // With one, it falls back to the feed's chair and device, never to the previous group's EUI-A.
        Assert.Equal(Hl7AckCode.Accept, mapped.Ack);
        Assert.Equal([("chair-a", "EUI-A", 70.0), ("feed-chair", "GW", 90.0)], mappedObs.Select(o => (o.Chair, o.Device, o.Value)));
    }
}
