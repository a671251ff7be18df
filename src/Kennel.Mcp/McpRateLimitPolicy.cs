using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Kennel.Mcp;

/// <summary>
/// Each client's request budget on an MCP endpoint, for ASP.NET Core's rate limiter: <see cref="McpHttpOptions.RateLimitPerMinute"/>
/// requests in each fixed minute, counted per client so that one client cannot use up another's. The host runs the
/// limiter after authentication, so the client is known and a request without a valid credential is refused (401)
/// before it can cost anyone budget. Past the limit the answer is 429 with <c>Retry-After</c> in seconds.
/// </summary>
/// <param name="clientOf">The client a request counts against: a credential, an OAuth client.</param>
/// <param name="writeRefusal">Writes the 429's body, given the seconds in <c>Retry-After</c>; status and header are set.</param>
public sealed class McpRateLimitPolicy(McpHttpOptions options, Func<ClaimsPrincipal, string?> clientOf, Func<HttpContext, int, Task> writeRefusal)
    : IRateLimiterPolicy<string>
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly FixedWindowRateLimiterOptions limiterOptions = new()
    {
        PermitLimit = Math.Max(options.RateLimitPerMinute, 1),
        Window = Window,
        QueueLimit = 0,
    };

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => RefuseAsync;

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        if (options.RateLimitPerMinute == 0)
        {
            return RateLimitPartition.GetNoLimiter("");
        }
        // Behind authentication every request has a client. One that somehow has none shares a single budget with the
        // others like it, rather than having no limit.
        return RateLimitPartition.GetFixedWindowLimiter(clientOf(httpContext.User) ?? "", _ => limiterOptions);
    }

    private async ValueTask RefuseAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        // A fixed window's lease says how long until its permits come back; whole seconds, rounded up, never 0.
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : Window;
        var seconds = (int)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds));
        var response = rejected.HttpContext.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await writeRefusal(rejected.HttpContext, seconds);
    }
}
