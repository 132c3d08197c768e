using Microsoft.Data.Sqlite;
using Vitals.Gateway.Auth;
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

    private UserService NewService() => new(new UserStore(Path.Combine(dir, "vitals.db")), clock);

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

    [Fact]
    public void Verify_FiveWrongPasswords_LocksTheAccountFor15Minutes()
    {
        var users = NewService();
        Assert.Null(users.Create("nurse1", Roles.Nurse, "correct-horse-1"));
        for (var i = 0; i < UserService.MaxFailedLogins - 1; i++)
        {
            Assert.Equal("Wrong user name or password.", users.Verify("nurse1", "wrong").Error);
        }

        Assert.NotNull(users.Verify("nurse1", "wrong").LockedUntil);
        Assert.False(users.Verify("nurse1", "correct-horse-1").Ok);
        clock.Advance(UserService.LockoutDuration);
        Assert.True(users.Verify("nurse1", "correct-horse-1").Ok);
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
