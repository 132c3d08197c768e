using Microsoft.Data.Sqlite;
using Vitals.Gateway.Config;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Config;

public class ChairBindingsTests
{
    private static GatewayOptions Options() => new()
    {
        Chairs =
        [
            new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "b40-1", Kind = "hl7", Match = "BED1" }] },
            new ChairOptions { Id = "chair-2", Devices = [new DeviceOptions { Id = "sim-2" }] },
            new ChairOptions { Id = "chair-3", Devices = [new DeviceOptions { Id = "rad8-3", Kind = "serial", Port = "/dev/ttyUSB3" }] },
        ],
    };

    [Fact]
    public void Validate_PortOrMatchOfAnotherChair_IsReportedAtTheEditedField()
    {
        var options = Options();
        var errors = ChairBindings.Validate(options, "chair-2",
            [new DeviceOptions { Id = "b40-2", Kind = "hl7", Match = "bed1" }, new DeviceOptions { Id = "m-2", Kind = "serial", Port = "/dev/ttyUSB3" }]);
        Assert.Contains("chair-1", Assert.Single(errors["devices[0].match"]), StringComparison.Ordinal);
        Assert.Contains("chair-3", Assert.Single(errors["devices[1].port"]), StringComparison.Ordinal);

        // Chair-1 (listed before) conflicting with chair-3's port: the message is keyed at chair-1's own field too.
        var first = ChairBindings.Validate(options, "chair-1", [new DeviceOptions { Id = "m-1", Kind = "serial", Port = "/dev/ttyUSB3" }]);
        Assert.Contains("chair-3", Assert.Single(first["devices[0].port"]), StringComparison.Ordinal);
        Assert.Empty(ChairBindings.Validate(options, "chair-2", [new DeviceOptions { Id = "sim-9", Scenario = "hypotension" }]));
    }

    [Fact]
    public void ApplyStored_OverridesTheFile_ButAnInvalidStoredBindingFallsBackToTheFileWithAProblem()
    {
        var dir = Directory.CreateTempSubdirectory("vitals-bindings-unit-").FullName;
        try
        {
            using (var store = new SqliteStore(Path.Combine(dir, "vitals.db")))
            {
                ChairBindings.Save(store, "chair-2", [new DeviceOptions { Id = "sim-9", Scenario = "desaturation", Seed = 9 }], TimeProvider.System.GetUtcNow());
                ChairBindings.Save(store, "chair-3", [new DeviceOptions { Id = "b40-3", Kind = "hl7", Match = "BED1" }], TimeProvider.System.GetUtcNow());
                ChairBindings.Save(store, "gone", [new DeviceOptions { Id = "sim-x" }], TimeProvider.System.GetUtcNow());

                var options = Options();
                var problems = ChairBindings.ApplyStored(options, store);

                var sim = Assert.Single(options.Chairs[1].Devices);
                Assert.Equal(("sim-9", "desaturation", 9), (sim.Id, sim.Scenario, sim.Seed));
                Assert.Equal("rad8-3", Assert.Single(options.Chairs[2].Devices).Id);
                Assert.Contains("chair 'chair-3'", Assert.Single(problems), StringComparison.Ordinal);
                Assert.Empty(options.Validate(_ => null));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Summary_NamesDevicesWithoutMappingsOrLineConfigs()
    {
        var summary = ChairBindings.Summary(
        [
            new DeviceOptions { Id = "sim-1", Scenario = "stable", Seed = 2 },
            new DeviceOptions { Id = "mq-1", Kind = "mqtt", Mapping = new Vitals.Devices.Json.JsonMapping { DeviceField = "serialSecret" } },
        ]);
        Assert.Equal("sim-1 simulator stable seed 2, mq-1 mqtt (vendor mapping)", summary);
        Assert.Equal("(none)", ChairBindings.Summary([]));
    }
}
