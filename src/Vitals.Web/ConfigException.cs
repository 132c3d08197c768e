namespace Vitals.Web;

/// <summary>A configuration problem found at startup. The message names the key and the fix.</summary>
public sealed class ConfigException(string message) : Exception(message);
