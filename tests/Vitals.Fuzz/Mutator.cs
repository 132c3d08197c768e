using System.Text;

namespace Vitals.Fuzz;

/// <summary>Byte-level mutations (bit flips, awkward bytes and numbers, format tokens, cuts, copies, splices).</summary>
public sealed class Mutator(Random random, IReadOnlyList<byte[]> dictionary, int maxLength)
{
    private static readonly byte[] InterestingBytes =
        [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0B, 0x1C, 0x0D, 0x0A, 0x09, (byte)' ', (byte)'|', (byte)'^', (byte)'~', (byte)'\\', (byte)'&',
         (byte)'"', (byte)',', (byte)'=', (byte)'-', (byte)'+', (byte)'.', (byte)'0', (byte)'9', (byte)'e', (byte)':', (byte)'{', (byte)'}'];

    private static readonly byte[][] InterestingNumbers = [.. new[]
    {
        "0", "-1", "-0", "1e309", "-1e309", "NaN", "Infinity", "99999999999999999999", "00000000000000000001", "2147483648",
        "-2147483649", "9223372036854775808", "1.7976931348623157e308", "4.9e-324", "0.0000000001", "9999", "0001", "1.5", "",
    }.Select(Encoding.ASCII.GetBytes)];

    /// <summary>A mutated copy of <paramref name="input"/>; <paramref name="other"/> is a second corpus entry for splicing.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(other);
        var data = new List<byte>(input);
        var rounds = 1 << random.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            MutateOnce(data, other);
        }

        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }

        return [.. data];
    }

    private void MutateOnce(List<byte> data, byte[] other)
    {
        var at = random.Next(data.Count + 1);
        switch (random.Next(12))
        {
            case 0 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] = (byte)random.Next(256);
                break;
            case 2 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 3 when dictionary.Count > 0:
                data.InsertRange(at, dictionary[random.Next(dictionary.Count)]);
                break;
            case 4 when dictionary.Count > 0:
                Overwrite(data, at, dictionary[random.Next(dictionary.Count)]);
                break;
            case 5 when data.Count > 0:
                var count = Math.Min(random.Next(1, 33), data.Count - Math.Min(at, data.Count - 1));
                data.RemoveRange(Math.Min(at, data.Count - 1), count);
                break;
            case 6 when data.Count > 0:
                var from = random.Next(data.Count);
                data.InsertRange(at, data.GetRange(from, Math.Min(random.Next(1, 65), data.Count - from)));
                break;
            case 7 when other.Length > 0:
                // Splice: this input's head, the other's tail.
                var cut = random.Next(other.Length);
                data.RemoveRange(Math.Min(at, data.Count), data.Count - Math.Min(at, data.Count));
                data.AddRange(other.AsSpan(cut).ToArray());
                break;
            case 8:
                ReplaceNumber(data, at);
                break;
            case 9 when data.Count > 0:
                data.RemoveRange(at == data.Count ? at - 1 : at, data.Count - (at == data.Count ? at - 1 : at));
                break;
            case 10:
                var noise = new byte[random.Next(1, 9)];
                random.NextBytes(noise);
                data.InsertRange(at, noise);
                break;
            default:
                if (other.Length > 0)
                {
                    // Insert a piece of another input (for example one segment or packet into another message).
                    var start = random.Next(other.Length);
                    data.InsertRange(at, other.AsSpan(start, Math.Min(random.Next(1, 129), other.Length - start)).ToArray());
                }

                break;
        }
    }

    private void ReplaceNumber(List<byte> data, int at)
    {
        var start = at;
        while (start < data.Count && !char.IsAsciiDigit((char)data[start]))
        {
            start++;
        }

        var end = start;
        while (end < data.Count && (char.IsAsciiDigit((char)data[end]) || data[end] == '.'))
        {
            end++;
        }

        data.RemoveRange(start, end - start);
        data.InsertRange(start, InterestingNumbers[random.Next(InterestingNumbers.Length)]);
    }

    private static void Overwrite(List<byte> data, int at, byte[] token)
    {
        for (var i = 0; i < token.Length; i++)
        {
            if (at + i < data.Count)
            {
                data[at + i] = token[i];
            }
            else
            {
                data.Add(token[i]);
            }
        }
    }
}
