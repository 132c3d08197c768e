using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Vitals.Gateway.Tests.Api;

/// <summary>The README's HTTPS recipe, run as written: <c>vitals run</c> with the Kestrel certificate variables.</summary>
public sealed class HttpsTests : IDisposable
{
    private const string CertPassword = "test-cert-password";
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-https-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task Run_WithKestrelCertificate_ServesHttps_SecureCookies_Hsts_AndRedirectsHttp()
    {
        using var cert = SelfSigned();
        var pfx = Path.Combine(dir, "gateway.pfx");
        await File.WriteAllBytesAsync(pfx, cert.Export(X509ContentType.Pfx, CertPassword));
        var config = Path.Combine(dir, "vitals.json");
        await File.WriteAllTextAsync(config, """{ "chairs": [ { "id": "chair-1", "devices": [ { "id": "sim-1", "kind": "simulator", "scenario": "stable" } ] } ] }""");
        // Port 0 for both: the gateway binds what the kernel gives it and reports it, so no port picked in advance can be lost.
        using var process = await GatewayProcess.StartAsync(
            ["run", "--config", config, "--data", Path.Combine(dir, "data")],
            signIn: false,
            urls: "https://127.0.0.1:0;http://127.0.0.1:0",
            environment: new Dictionary<string, string>
            {
                ["ASPNETCORE_Kestrel__Certificates__Default__Path"] = pfx,
                ["ASPNETCORE_Kestrel__Certificates__Default__Password"] = CertPassword,
            });
        var secure = Assert.Single(process.Addresses, a => a.Scheme == Uri.UriSchemeHttps);
        var insecure = Assert.Single(process.Addresses, a => a.Scheme == Uri.UriSchemeHttp);
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            CookieContainer = new CookieContainer(),
            ServerCertificateCustomValidationCallback = (_, presented, _, errors) =>
                presented?.Thumbprint == cert.Thumbprint && errors == SslPolicyErrors.RemoteCertificateChainErrors,
        };
        using var https = new HttpClient(handler) { BaseAddress = secure };
        await process.WaitUntilAsync(
            async () =>
            {
                try
                {
                    return (await https.GetAsync(new Uri("healthz", UriKind.Relative))).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            "healthz over https",
            TimeSpan.FromSeconds(90));

        using var health = await https.GetAsync(new Uri("healthz", UriKind.Relative));
        Assert.Contains("max-age=", string.Join(";", health.Headers.GetValues("Strict-Transport-Security")), StringComparison.Ordinal);

        using var login = await GatewayHost.SendAsync(https, HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        var auth = Assert.Single(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith("vitals.auth=", StringComparison.Ordinal));
        Assert.Contains("; secure", auth, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await https.GetAsync(new Uri("api/chairs", UriKind.Relative))).StatusCode);

        using var plain = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var redirected = await plain.GetAsync(new Uri(insecure, "login?x=1"));
        Assert.True(redirected.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect, $"{redirected.StatusCode}");
        Assert.Equal(new Uri(secure, "login?x=1"), redirected.Headers.Location);
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", true)]
    [InlineData("http://*:8080", true)]
    [InlineData("http://+:8080", true)]
    [InlineData("http://[::]:8080", true)]
    [InlineData("http://192.168.1.20:8080", true)]
    [InlineData("http://ward-gateway:8080", true)]
    [InlineData("http://127.0.0.1:8080", false)]
    [InlineData("http://localhost:8080", false)]
    [InlineData("http://[::1]:8080", false)]
    [InlineData("https://0.0.0.0:8443", false)]
    public void PlainHttpBeyondLoopback_FindsUrlsThatSendPasswordsInClear(string url, bool exposed) =>
        Assert.Equal(exposed, WebSecurity.PlainHttpBeyondLoopback([url]).Count == 1);

    [Fact]
    public async Task Build_PlainHttpOnAllInterfaces_LogsAWarning_LoopbackDoesNot()
    {
        foreach (var (urls, warns) in new[] { ("http://0.0.0.0:0", true), ("http://127.0.0.1:0", false) })
        {
            var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var options = GatewayHost.OneChair("stable", 1);
            options.Urls = urls;
            options.Data = Path.Combine(dir, warns ? "a" : "b");
            Directory.CreateDirectory(options.Data);
            await using var app = GatewayApp.Build(options, null, l => l.AddProvider(new LineLogger(lines)), name => name == "VITALS_ADMIN_PASSWORD" ? GatewayHost.AdminPassword : null);
            Assert.Equal(warns, lines.Any(l => l.Contains("passwords and session cookies cross the network in clear", StringComparison.Ordinal)));
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = TimeProvider.System.GetUtcNow();
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
    }

    private sealed class LineLogger(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception));

        public void Dispose()
        {
        }
    }
}
