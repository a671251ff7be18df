using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Kennel.Contracts;
using Kennel.Contracts.ApiKeys;
using Kennel.Contracts.OAuth;
using Kennel.Contracts.Users;
using Kennel.Testing;
using ModelContextProtocol.Client;

namespace Kennel.Bench;

/// <summary>
/// <c>scripts/bench.sh oauth</c>: access tokens issued per second (refresh_token grant, each worker rotating its own
/// chain), and what checking a token costs an MCP request: <c>tools/call get-session</c> with a JWT and with an API key,
/// interleaved one by one on one server, so the machine's noise falls on both alike; then what validating a token costs
/// alone, in process (<see cref="TokenValidationBench"/>).
/// </summary>
internal static class OAuthBench
{
    private const string Password = "bench password 1";
    private const string RedirectUri = "http://127.0.0.1:9/callback";

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 10);
        var samples = Option(args, "--samples", 2000);
        var concurrency = Option(args, "--concurrency", 4);
        var dataDir = Directory.CreateTempSubdirectory("kennel-oauthbench-").FullName;
        var port = ProcFs.FreePort();
        var url = new Uri($"http://127.0.0.1:{port}/");
        using var kennel = ServeProcess.Start(new Dictionary<string, string>
        {
            ["KENNEL_LISTEN"] = $"127.0.0.1:{port}",
            ["KENNEL_DATA_DIR"] = dataDir,
            ["KENNEL_MCP_RATE_LIMIT"] = "0",
            ["KENNEL_OAUTH_LOGIN_RATE_LIMIT"] = "0",
            ["KENNEL_OAUTH_REGISTRATION_RATE_LIMIT"] = "0",
        });
        try
        {
            await kennel.WaitUntilListeningAsync();
            using var admin = new HttpClient { BaseAddress = url };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(dataDir, "admin-api-key"))).Trim());
            (await admin.PostAsJsonAsync("v1/users", new CreateUserRequest { Email = "bench@example.com", Password = Password, Workspace = "bench", Role = Roles.Member },
                KennelJson.Default.CreateUserRequest)).EnsureSuccessStatusCode();
            using var keyResponse = await admin.PostAsJsonAsync("v1/apikeys", new CreateApiKeyRequest { Workspace = "bench", Scopes = [Scopes.Read, Scopes.Write] },
                KennelJson.Default.CreateApiKeyRequest);
            var apiKey = (await keyResponse.Content.ReadFromJsonAsync(KennelJson.Default.CreatedApiKey))!.Key;
            using var registered = await admin.PostAsJsonAsync("oauth/register", new ClientMetadata { RedirectUris = [RedirectUri], TokenEndpointAuthMethod = "none" },
                OAuthJson.Default.ClientMetadata);
            var clientId = (await registered.Content.ReadFromJsonAsync(OAuthJson.Default.ClientRegistration))!.ClientId;

            // One grant per worker (consent is remembered after the first), so each rotates its own refresh chain.
            using var browser = new OAuthBrowser(url);
            var grants = new List<TokenResponse>();
            for (var i = 0; i < concurrency + 1; i++)
            {
                grants.Add(await AuthorizeAsync(admin, browser, url, clientId));
            }
            var issued = await IssuanceAsync(url, clientId, grants.Skip(1).Select(g => g.RefreshToken ?? throw new InvalidOperationException("the client got no refresh token")).ToList(), TimeSpan.FromSeconds(seconds));

            using var load = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) });
            await using var byToken = await ConnectAsync(load, url, grants[0].AccessToken);
            await using var byKey = await ConnectAsync(load, url, apiKey);
            var session = (await byKey.CallToolAsync("create-session", Args("""{"command":["true"]}"""))).StructuredContent!.Value.GetProperty("id").GetString()!;
            var getArgs = Args($$"""{"id":"{{session}}"}""");
            var tokenLatencies = new List<double>();
            var keyLatencies = new List<double>();
            for (var i = 0; i < samples + 200; i++)
            {
                var t = await TimeAsync(() => byToken.CallToolAsync("get-session", getArgs).AsTask());
                var k = await TimeAsync(() => byKey.CallToolAsync("get-session", getArgs).AsTask());
                if (i >= 200) // the first 200 pairs warm up JIT and pools
                {
                    tokenLatencies.Add(t);
                    keyLatencies.Add(k);
                }
            }
            var verify = SignatureCheckMicroseconds(grants[0].AccessToken.Length);
            var validation = await TokenValidationBench.RunAsync(samples * 10, TimeSpan.FromSeconds(seconds / 2.0));

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.MachineName}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, kennel SQLite, rate limits off");
            text.AppendLine();
            text.AppendLine("| measure | value |");
            text.AppendLine("|---|---|");
            text.AppendLine(CultureInfo.InvariantCulture, $"| tokens issued, refresh_token grant, {concurrency} clients, {seconds} s | {issued.PerSecond:0} /s (p50 {issued.P(50):0.00} ms, p99 {issued.P(99):0.00} ms) |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| tools/call get-session with a JWT, p50 / p99 ({samples} calls) | {P(tokenLatencies, 50):0.000} / {P(tokenLatencies, 99):0.000} ms |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| tools/call get-session with an API key, p50 / p99 (interleaved) | {P(keyLatencies, 50):0.000} / {P(keyLatencies, 99):0.000} ms |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| JWT minus API key, p50 | {P(tokenLatencies, 50) - P(keyLatencies, 50):+0.000;-0.000} ms |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| ES256 signature check alone (in process, cached key), p50 | {verify:0.0} µs |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| AccessTokens.ValidateAsync alone (in process), p50 / p99 ({samples * 10} calls) | {validation.P50Microseconds:0.0} / {validation.P99Microseconds:0.0} µs |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| AccessTokens.ValidateAsync, validations/s: 1 thread / {Environment.ProcessorCount} threads ({seconds / 2.0:0.#} s) | {validation.PerSecondOneThread:0} / {validation.PerSecondAllCores:0} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| AccessTokens.ValidateAsync, bytes allocated per validation | {validation.BytesPerValidation:0} |");
            Console.WriteLine(text.ToString());
            return 0;
        }
        finally
        {
            await kennel.StopAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static async Task<TokenResponse> AuthorizeAsync(HttpClient http, OAuthBrowser browser, Uri url, string clientId)
    {
        var verifier = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var challenge = System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var authorize = new Uri(url, $"oauth/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(RedirectUri)}" +
            $"&code_challenge={challenge}&code_challenge_method=S256&scope={Uri.EscapeDataString("mcp:read mcp:chat mcp:write")}&state=s");
        var back = await browser.AuthorizeAsync(authorize, "bench@example.com", Password);
        using var response = await http.PostAsync("oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = OAuthBrowser.Query(back, "code")!,
            ["client_id"] = clientId,
            ["redirect_uri"] = RedirectUri,
            ["code_verifier"] = verifier,
        }));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!;
    }

    private static async Task<(double PerSecond, Func<int, double> P)> IssuanceAsync(Uri url, string clientId, List<string> chains, TimeSpan duration)
    {
        using var http = new HttpClient { BaseAddress = url };
        var latencies = new List<double>();
        var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(chains.Select(async first =>
        {
            var refresh = first;
            while (Stopwatch.GetTimestamp() < stop)
            {
                var begin = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token",
                    ["refresh_token"] = refresh,
                    ["client_id"] = clientId,
                }));
                response.EnsureSuccessStatusCode();
                refresh = (await response.Content.ReadFromJsonAsync(OAuthJson.Default.TokenResponse))!.RefreshToken
                    ?? throw new InvalidOperationException("a refresh answered without a new refresh token");
                lock (latencies)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
                }
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (latencies.Count / elapsed, p => P(latencies, p));
    }

    /// <summary>The cost of the signature check the server does per request, on a token of the same size, here in process.</summary>
    private static double SignatureCheckMicroseconds(int tokenLength)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var data = RandomNumberGenerator.GetBytes(tokenLength - 87);
        var signature = key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var times = new List<double>();
        for (var i = 0; i < 5000; i++)
        {
            var begin = Stopwatch.GetTimestamp();
            if (!key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                throw new InvalidOperationException("The signature did not verify.");
            }
            times.Add(Stopwatch.GetElapsedTime(begin).TotalMicroseconds);
        }
        return P(times.Skip(500).ToList(), 50);
    }

    private static async Task<McpClient> ConnectAsync(HttpClient http, Uri url, string bearer) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(url, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {bearer}" },
        }, http, ownsHttpClient: false));

    private static async Task<double> TimeAsync(Func<Task> call)
    {
        var begin = Stopwatch.GetTimestamp();
        await call();
        return Stopwatch.GetElapsedTime(begin).TotalMilliseconds;
    }

    private static double P(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static Dictionary<string, object?> Args(string json) =>
        System.Text.Json.JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());

    private static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

}
