using Vitals.Storage.Sqlite;

namespace Vitals.Web;

/// <summary>
/// The client id of a persistent MQTT session (clean session 0), kept in the host's store: the broker holds what this
/// host has not received or acknowledged yet under that id, so it must be the same after a restart, new with a new data
/// directory, and never shared by two hosts.
/// </summary>
public static class MqttSessionId
{
    /// <summary>Store config key of the generated client id.</summary>
    public const string ConfigKey = "mqtt.clientId";

    /// <summary>The id kept in <paramref name="store"/>; the first time, <paramref name="generated"/>, which is kept from then on.</summary>
    public static string Kept(SqliteStore store, string generated, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store.GetConfig(ConfigKey) is { } kept)
        {
            return kept;
        }

        store.SetConfig(ConfigKey, generated, now);
        return generated;
    }
}
