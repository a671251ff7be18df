using System.Text.Json;
using Kennel.Contracts;
using Kennel.Testing;

namespace Kennel.Tests;

/// <summary>What every error must look like to a client: RFC 9457 problem details with a stable code, and nothing internal.</summary>
public static class ProblemResponses
{
    /// <summary>Asserts the status, <c>code</c> and (when given) <c>field</c>, and that the body leaks no stack trace.</summary>
    public static async Task<Problem> ShouldBeProblemAsync(this HttpResponseMessage response, int status, string code, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(status, body);
        body.ShouldNotContain("   at ", Case.Sensitive, body);
        body.ShouldNotContain("Exception", Case.Sensitive, body);
        body.ShouldNotContain("System.", Case.Sensitive, body);
        body.ShouldNotContain("Kennel.", Case.Sensitive, body);
        var problem = await response.ReadProblemAsync();
        problem.Status.ShouldBe(status, body);
        problem.Code.ShouldBe(code, body);
        problem.Title.ShouldNotBeNullOrWhiteSpace();
        if (field is not null)
        {
            problem.Field.ShouldBe(field, body);
        }
        using var json = JsonDocument.Parse(body);
        json.RootElement.ValueKind.ShouldBe(JsonValueKind.Object);
        return problem;
    }

    /// <summary>403 insufficient_scope, with the RFC 6750 challenge naming the scope the endpoint needs.</summary>
    public static async Task ShouldBeForbiddenAsync(this HttpResponseMessage response, string scope)
    {
        await response.ShouldBeProblemAsync(403, "insufficient_scope");
        var challenge = response.Headers.WwwAuthenticate.ToString();
        challenge.ShouldStartWith("Bearer");
        challenge.ShouldContain("error=\"insufficient_scope\"");
        challenge.ShouldContain($"scope=\"{scope}\"");
    }
}
