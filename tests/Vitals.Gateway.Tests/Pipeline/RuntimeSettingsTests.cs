using System.Globalization;
using System.Text.Json;

namespace Vitals.Gateway.Tests.Pipeline;

/// <summary>
/// The gateway's runtime settings (src/Vitals.Gateway/Runtime.props), read from the runtimeconfig.json the JIT build
/// writes next to vitals.dll; AotGatewayTests checks the published native binary applies them. (The tiering knobs moved
/// to tests/Vitals.Load: the shipped binary has no JIT.)
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void Runtimeconfig_GarbageCollector_IsConcurrentWorkstationAsMeasured()
    {
        // Server GC (the Web SDK's default) peaked ~20 MB higher on the Node-RED harness for the same CPU within noise.
        // tests/Vitals.Load imports the same Runtime.props; this keeps the shipped setting the one the figures are for.
        var settings = ConfigProperties();

        Assert.True(settings.TryGetProperty("System.GC.Server", out var server), "System.GC.Server is not set: the Web SDK would pick Server GC");
        Assert.False(server.GetBoolean());
        Assert.True(settings.GetProperty("System.GC.Concurrent").GetBoolean());
    }

    [Fact]
    public void Runtimeconfig_Gen0Budget_IsCappedForPeakMemory()
    {
        // Uncapped, Workstation GC sized gen0 from the L3 cache (~25 MB here) and the harness peaked 5-8 MB higher.
        var settings = ConfigProperties();

        Assert.True(settings.TryGetProperty("System.GC.Gen0MaxBudget", out var budget), "System.GC.Gen0MaxBudget is not set");
        Assert.InRange(budget.ValueKind == JsonValueKind.String ? long.Parse(budget.GetString()!, CultureInfo.InvariantCulture) : budget.GetInt64(), 4L << 20, 16L << 20);
    }

    private static JsonElement ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "vitals.runtimeconfig.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }
}
