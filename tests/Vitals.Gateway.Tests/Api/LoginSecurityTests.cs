using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Vitals.Gateway.Tests.Api;

/// <summary>Login from outside: rate limit, no user enumeration, throttling an admin can see and clear, and logs without secrets.</summary>
public sealed class LoginSecurityTests
{
    [Fact]
    public async Task Login_MoreThanTheLimitPerMinuteFromOneAddress_Is429()
    {
        var options = GatewayHost.OneChair("stable", 1);
        options.LoginAttemptsPerMinute = 4;
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromSeconds(1), signIn: false);
        using var client = host.NewClient();

        // Distinct unknown names, so neither the per-name nor the per-address delay (10 free failures) is what answers.
        for (var i = 0; i < 4; i++)
        {
            using var wrong = await GatewayHost.SendAsync(client, HttpMethod.Post, "api/auth/login", new { name = $"guess{i}", password = "wrong-password" });
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using var limited = await GatewayHost.SendAsync(client, HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
    }

    [Fact]
    public async Task Login_RealAndUnknownNames_AnswerAlike_AdminSeesAndClearsTheThrottling()
    {
        var options = GatewayHost.OneChair("stable", 1);
        options.LoginAttemptsPerMinute = 100;
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromSeconds(1));
        using var attacker = host.NewClient();

        // The same wrong guesses for a real admin and for a name that does not exist: the answers use the same words
        // (numbers aside: the wait depends on timing), past the free failures a wait, never a lockout naming the account.
        // Twelve tries: the waits double, so however slow the machine, the later tries land inside one.
        async Task<List<(HttpStatusCode Status, string Detail)>> GuessAsync(string name)
        {
            var answers = new List<(HttpStatusCode, string)>();
            for (var i = 0; i < 12; i++)
            {
                using var response = await GatewayHost.SendAsync(attacker, HttpMethod.Post, "api/auth/login", new { name, password = "wrong-password" });
                var detail = (await ApiFixture.JsonAsync(response)).GetProperty("detail").GetString()!;
                answers.Add((response.StatusCode, Regex.Replace(detail, "[0-9]+", "N")));
            }

            return answers;
        }

        var real = await GuessAsync("admin");
        Assert.Equal((HttpStatusCode.Unauthorized, "Wrong user name or password."), real[0]);
        Assert.Contains(real, a => a.Status == HttpStatusCode.TooManyRequests);
        Assert.DoesNotContain(real, a => a.Detail.Contains("admin", StringComparison.OrdinalIgnoreCase) || a.Detail.Contains("locked", StringComparison.OrdinalIgnoreCase));

        using var blocked = await GatewayHost.SendAsync(host.NewClient(), HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.True(blocked.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        var view = await host.Http.GetStringAsync(new Uri("api/admin/login-throttling", UriKind.Relative));
        Assert.Contains("\"admin\"", view, StringComparison.Ordinal);
        Assert.Contains("\"127.0.0.1\"", view, StringComparison.Ordinal);
        var users = await host.Http.GetStringAsync(new Uri("api/users", UriKind.Relative));
        Assert.Contains("throttledUntil\":\"", users, StringComparison.Ordinal);

        using (var cleared = await GatewayHost.SendAsync(host.Http, HttpMethod.Delete, "api/admin/login-throttling"))
        {
            Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        }

        var unknown = await GuessAsync("ghost");
        Assert.Equal(real.Distinct().Order().ToList(), unknown.Distinct().Order().ToList());
        view = await host.Http.GetStringAsync(new Uri("api/admin/login-throttling", UriKind.Relative));
        Assert.Contains("unknown:", view, StringComparison.Ordinal);
        Assert.DoesNotContain("ghost", view, StringComparison.Ordinal);

        using (var cleared = await GatewayHost.SendAsync(host.Http, HttpMethod.Delete, "api/admin/login-throttling"))
        {
            Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        }

        await host.LoginAsync(host.NewClient(), "admin", GatewayHost.AdminPassword);
        var audit = await host.Http.GetStringAsync(new Uri("api/admin/audit?type=audit&limit=1000", UriKind.Relative));
        Assert.Contains("login.throttling_cleared", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_NeverCarryPasswordsTokensOrPseudonyms()
    {
        var lines = new ConcurrentQueue<string>();
        var options = GatewayHost.OneChair("stable", 1);
        options.LoginAttemptsPerMinute = 100;
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromSeconds(1), logging: l =>
        {
            l.SetMinimumLevel(LogLevel.Trace);
            l.AddFilter("Vitals", LogLevel.Trace);
            l.AddProvider(new CapturingLoggerProvider(lines));
        });

        const string typedPassword = "Typed-Into-Name-77";
        const string nursePassword = "nurse-secret-password-9";
        const string pseudonym = "PSEUDO-4711-XYZ";
        using (var r = await GatewayHost.SendAsync(host.Http, HttpMethod.Post, "api/users", new { name = "nurse9", role = "nurse", password = nursePassword }))
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }

        using var nurse = host.NewClient();
        using (var r = await GatewayHost.SendAsync(nurse, HttpMethod.Post, "api/auth/login", new { name = typedPassword, password = nursePassword }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        await host.LoginAsync(nurse, "nurse9", nursePassword);
        using (var r = await GatewayHost.SendAsync(nurse, HttpMethod.Post, "api/chairs/chair-1/session", new { patientPseudonym = pseudonym, drug = "magnesium sulfate", doseGrams = 4, rateGramsPerHour = 1 }))
        {
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }

        using var kiosk = await GatewayHost.SendAsync(host.Http, HttpMethod.Post, "api/admin/kiosk");
        var token = (await ApiFixture.JsonAsync(kiosk)).GetProperty("token").GetString()!;
        using (var r = await host.NewClient().GetAsync(new Uri($"kiosk?token={token}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        }

        using (var r = await host.NewClient().GetAsync(new Uri("kiosk?token=not-the-token", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        using (var r = await GatewayHost.SendAsync(nurse, HttpMethod.Post, "api/auth/logout"))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }

        await host.App.StopAsync();
        Assert.NotEmpty(lines);
        var all = string.Join('\n', lines);
        foreach (var secret in new[] { typedPassword, nursePassword, GatewayHost.AdminPassword, pseudonym, token })
        {
            Assert.DoesNotContain(secret, all, StringComparison.OrdinalIgnoreCase);
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                lines.Enqueue($"{category} scope {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{category} {logLevel} {formatter(state, exception)} {exception}");
        }
    }
}
