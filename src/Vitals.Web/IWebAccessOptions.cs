namespace Vitals.Web;

/// <summary>The settings the shared login and access rules need from a host (gateway or central station).</summary>
public interface IWebAccessOptions
{
    /// <summary>Demo mode: pages and read APIs open without login (demo data only), demo accounts shown on the login page.</summary>
    bool Demo { get; }

    /// <summary>Login attempts per minute and client address before 429.</summary>
    int LoginAttemptsPerMinute { get; }
}
