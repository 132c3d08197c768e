using System.Net;

namespace Vitals.Gateway.Tests.Api;

public class AuthFlowTests
{
    [Fact]
    public async Task Logout_EndsTheSession()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromSeconds(1));
        using var client = host.NewClient();
        await host.LoginAsync(client, "admin", GatewayHost.AdminPassword);
        Assert.Contains("\"admin\"", await client.GetStringAsync(new Uri("api/auth/me", UriKind.Relative)), StringComparison.Ordinal);
        using var logout = await GatewayHost.SendAsync(client, HttpMethod.Post, "api/auth/logout");
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        using var page = await client.GetAsync(new Uri("", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
    }
}
