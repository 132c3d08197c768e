using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Api;

/// <summary>The audit view on an event log far past the 200,000 rows it used to scan from the oldest.</summary>
public sealed class AuditLogScaleTests
{
    [Fact]
    public async Task Audit_LogOfQuarterMillionRows_NewestEntriesByUserAndByChairListedFirst()
    {
        await using var host = await GatewayHost.StartAsync(ApiFixture.Options(), TimeSpan.FromSeconds(1));
        var store = host.App.Services.GetRequiredService<SqliteStore>();
        var audit = host.App.Services.GetRequiredService<AuditLog>();
        audit.Write("test.oldest", "carol", "chair-2", "first");
        var t0 = DateTimeOffset.UtcNow.AddDays(-30);
        for (var block = 0; block < 25; block++)
        {
            store.AppendEvents("feed_status", [.. Enumerable.Range(block * 10_000, 10_000).Select(i => (t0.AddSeconds(i), (string?)"chair-2", "{}"))]);
        }

        audit.Write("test.newest", "carol", "chair-2", "last");

        var byUser = await AuditAsync(host, "user=Carol");
        Assert.Equal(["test.newest: last", "test.oldest: first"], byUser.Select(e => e.GetProperty("summary").GetString()));
        var byChair = await AuditAsync(host, "chair=chair-2&type=audit&limit=1");
        Assert.Equal("test.newest: last", Assert.Single(byChair).GetProperty("summary").GetString());
        var newest = await AuditAsync(host, "limit=5");
        Assert.Equal("test.newest: last", newest[0].GetProperty("summary").GetString());
        Assert.True(newest.Zip(newest.Skip(1)).All(p => p.First.GetProperty("id").GetInt64() > p.Second.GetProperty("id").GetInt64()), "newest first");
    }

    private static async Task<List<JsonElement>> AuditAsync(GatewayHost host, string query)
    {
        using var doc = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/admin/audit?" + query, UriKind.Relative)));
        return [.. doc.RootElement.Clone().EnumerateArray()];
    }
}
