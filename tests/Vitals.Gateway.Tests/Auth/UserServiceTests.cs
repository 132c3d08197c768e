using Microsoft.Data.Sqlite;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Auth;

public sealed class UserServiceTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-users-").FullName;
    private readonly ManualClock clock = new(new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.Zero));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    private UserStore Store() => new(Path.Combine(dir, "vitals.db"));

    private UserService NewService() => NewService(new LoginThrottle(clock));

    private UserService NewService(LoginThrottle throttle) => new(Store(), new SessionRegistry(Store(), clock), throttle, clock);

    [Fact]
    public void Bootstrap_FirstRunWithoutPassword_PrintsOneTimeAdminPasswordOnce()
    {
        var console = new StringWriter();
        NewService().Bootstrap(demo: false, console, _ => null);
        var printed = console.ToString();
        var password = printed.Split("one-time password ")[1].Split('\n')[0].Trim();
        Assert.Equal(16, password.Length);
        Assert.True(NewService().Verify("admin", password).Ok);

        var again = new StringWriter();
        NewService().Bootstrap(demo: false, again, _ => null);
        Assert.Equal("", again.ToString());
    }

    [Fact]
    public void Bootstrap_PasswordFromEnvironment_IsUsedAndNotPrinted()
    {
        var console = new StringWriter();
        NewService().Bootstrap(false, console, name => name == "VITALS_ADMIN_PASSWORD" ? "from-the-environment" : null);
        Assert.Equal("", console.ToString());
        Assert.True(NewService().Verify("admin", "from-the-environment").Ok);
    }

    [Fact]
    public void Bootstrap_PasswordFile_IsRead()
    {
        var file = Path.Combine(dir, "admin.txt");
        File.WriteAllText(file, "from-a-file-123\n");
        NewService().Bootstrap(false, TextWriter.Null, name => name == "VITALS_ADMIN_PASSWORD_FILE" ? file : null);
        Assert.True(NewService().Verify("admin", "from-a-file-123").Ok);
    }

    [Fact]
    public void Bootstrap_Demo_CreatesTheDemoAccounts()
    {
        NewService().Bootstrap(true, TextWriter.Null, _ => null);
        foreach (var (name, role, password) in UserService.DemoUsers)
        {
            var result = NewService().Verify(name, password);
            Assert.True(result.Ok, name);
            Assert.Equal(role, result.User!.Role);
        }
    }

    // The throttling expectations below are the documented policy (README, Security), written out independently of
    // LoginThrottle's constants: 5 free failures per name, then waits of 1, 2, 4 ... s, never more than 60 s per name.
    [Fact]
    public void Verify_WrongPasswords_DelaysGrowAndNeverLockTheAccountOut()
    {
        var users = NewService();
        Assert.Null(users.Create("nurse1", Roles.Nurse, "correct-horse-1"));
        for (var i = 0; i < 5; i++)
        {
            var free = users.Verify("nurse1", "wrong", "10.0.0.9");
            Assert.Equal("Wrong user name or password.", free.Error);
            Assert.Null(free.RetryAt);
        }

        // Each further failure doubles the wait; an attempt inside the wait is not even checked, right password or not.
        foreach (var expected in new[] { 1, 2, 4, 8, 16, 32, 60, 60, 60 })
        {
            Assert.Equal("Wrong user name or password.", users.Verify("nurse1", "wrong", "10.0.0.9").Error);
            var refused = users.Verify("nurse1", "correct-horse-1", "10.0.0.9");
            Assert.False(refused.Ok);
            Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(expected), refused.RetryAt);
            clock.Advance(TimeSpan.FromSeconds(expected));
        }

        // After the wait the right password works at once: never a hard lockout.
        Assert.True(users.Verify("nurse1", "correct-horse-1", "10.0.0.9").Ok);
        Assert.Null(users.Verify("nurse1", "wrong", "10.0.0.9").RetryAt);
    }

    [Fact]
    public void Verify_AttackerElsewhere_CannotKeepANurseOutFromHerUsualDevice()
    {
        var users = NewService();
        users.Create("nurse1", Roles.Nurse, "correct-horse-1");
        Assert.True(users.Verify("nurse1", "correct-horse-1", "10.0.0.5").Ok);
        for (var i = 0; i < 30; i++)
        {
            users.Verify("nurse1", "guess-" + i, "192.0.2.66");
        }

        Assert.NotNull(users.Verify("nurse1", "correct-horse-1", "192.0.2.66").RetryAt);
        Assert.NotNull(users.Verify("nurse1", "correct-horse-1", "10.0.0.77").RetryAt);
        Assert.True(users.Verify("nurse1", "correct-horse-1", "10.0.0.5").Ok);
    }

    [Fact]
    public void Verify_OneAddressTryingManyNames_IsDelayedAfterTenFailures()
    {
        var users = NewService();
        users.Create("nurse1", Roles.Nurse, "correct-horse-1");
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(users.Verify("name" + i, "wrong", "192.0.2.7").RetryAt);
        }

        Assert.Null(users.Verify("name10", "wrong", "192.0.2.7").RetryAt);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(1), users.Verify("nurse1", "correct-horse-1", "192.0.2.7").RetryAt);
        Assert.True(users.Verify("nurse1", "correct-horse-1", "192.0.2.8").Ok);
    }

    [Fact]
    public void Verify_UnknownAndExistingNames_AnswerIdenticallyThroughThrottling()
    {
        var users = NewService();
        users.Create("admin2", Roles.Admin, "correct-horse-1");
        for (var i = 0; i < 8; i++)
        {
            var known = users.Verify("admin2", "wrong", "10.0.0.1");
            var unknown = users.Verify("nobody", "wrong", "10.0.0.2");
            Assert.Equal(known.Error, unknown.Error);
            Assert.Equal(known.RetryAt, unknown.RetryAt);
        }
    }

    [Fact]
    public void Throttle_AdminSeesAndClearsIt_UnknownNamesOnlyPseudonymized()
    {
        var users = NewService();
        users.Create("nurse1", Roles.Nurse, "correct-horse-1");
        for (var i = 0; i < 7; i++)
        {
            users.Verify("nurse1", "wrong", "10.0.0.3");
            users.Verify("MySecretPassw0rd", "x", "10.0.0.4");
        }

        var view = users.Throttle.Snapshot(users.Pseudonymize);
        Assert.Contains(view, v => v.Kind == "account" && v.Key == "nurse1" && v.Failures == 6 && v.RetryAt is not null);
        Assert.Contains(view, v => v.Kind == "address" && v.Key == "10.0.0.4");
        Assert.DoesNotContain(view, v => v.Key.Contains("MySecret", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(view, v => v.Kind == "account" && v.Key.StartsWith("unknown:", StringComparison.Ordinal) && v.Key.Length == "unknown:".Length + 8);

        Assert.True(users.Throttle.Clear("nurse1", "10.0.0.3"));
        Assert.True(users.Verify("nurse1", "correct-horse-1", "10.0.0.3").Ok);
    }

    [Fact]
    public void Update_RoleOrPasswordOrDisabled_EndsTheUsersSessions_DeleteToo()
    {
        var users = NewService();
        foreach (var name in new[] { "a1", "a2", "a3", "a4", "b1" })
        {
            users.Create(name, Roles.Admin, "correct-horse-1");
        }

        var ids = new[] { "a1", "a2", "a3", "a4", "b1" }.ToDictionary(n => n, n => users.Sessions.Start(n));
        users.Update("a1", Roles.Viewer, null, null);
        users.Update("a2", null, "another-horse-2", null);
        users.Update("a3", null, null, disabled: true);
        users.Delete("a4");
        foreach (var name in new[] { "a1", "a2", "a3", "a4" })
        {
            Assert.False(users.Sessions.IsValid(ids[name], name), name);
        }

        Assert.True(users.Sessions.IsValid(ids["b1"], "b1"));
        Assert.False(users.Sessions.IsValid(ids["b1"], "a1"));
    }

    [Fact]
    public void Sessions_SurviveARestart_AndEndTwelveHoursAfterSignIn()
    {
        var id = new SessionRegistry(Store(), clock).Start("nurse1");
        clock.Advance(TimeSpan.FromHours(11.99));
        var restarted = new SessionRegistry(Store(), clock);
        Assert.True(restarted.IsValid(id, "NURSE1"));
        clock.Advance(TimeSpan.FromHours(0.01));
        Assert.False(restarted.IsValid(id, "nurse1"));

        var other = restarted.Start("nurse1");
        restarted.End(other);
        Assert.False(new SessionRegistry(Store(), clock).IsValid(other, "nurse1"));
    }

    [Fact]
    public void Sessions_StoreOnlyAHashOfTheId()
    {
        var id = new SessionRegistry(Store(), clock).Start("nurse1");
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(dir, "vitals.db*"))
        {
            Assert.DoesNotContain(id, File.ReadAllText(file, System.Text.Encoding.Latin1), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Verify_UnknownUserOrDisabledAccount_SameMessageAsWrongPassword()
    {
        var users = NewService();
        users.Create("viewer1", Roles.Viewer, "wall-display-1");
        users.Update("viewer1", null, null, disabled: true);
        Assert.Equal("Wrong user name or password.", users.Verify("viewer1", "wall-display-1").Error);
        Assert.Equal("Wrong user name or password.", users.Verify("nobody", "whatever-123").Error);
    }

    [Theory]
    [InlineData("bad name", "nurse", "long-enough-1", "name")]
    [InlineData("nurse2", "doctor", "long-enough-1", "role")]
    [InlineData("nurse2", "nurse", "short", "password")]
    public void Create_InvalidField_NamesTheField(string name, string role, string password, string field)
    {
        Assert.Equal(field, NewService().Create(name, role, password)?.Field);
    }

    [Fact]
    public void Store_NeverHoldsThePasswordInClear()
    {
        var users = NewService();
        users.Create("nurse3", Roles.Nurse, "plain-text-secret");
        foreach (var file in Directory.GetFiles(dir, "vitals.db*"))
        {
            Assert.DoesNotContain("plain-text-secret", File.ReadAllText(file, System.Text.Encoding.Latin1), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(users.All(), u => u.PasswordHash.Contains("plain-text-secret", StringComparison.Ordinal));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset now = now;

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
