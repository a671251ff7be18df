namespace Kennel.Sandbox.Network;

/// <summary>What a sandbox's network moved and was refused, counted by the worker's egress proxy.</summary>
/// <param name="BytesIn">Bytes from destinations to the sandbox.</param>
/// <param name="BytesOut">Bytes from the sandbox to destinations, request heads included.</param>
/// <param name="Refused">Every refused attempt, counted even past the ones listed.</param>
/// <param name="Refusals">Each distinct refused destination, the first <see cref="EgressSession.MaxRefusals"/> of them.</param>
public sealed record EgressUsage(long BytesIn, long BytesOut, int Refused, IReadOnlyList<EgressRefusal> Refusals);

/// <summary>A destination the proxy refused, and the rule that refused it (e.g. <c>not-in-allowlist</c>, <c>private</c>).</summary>
public sealed record EgressRefusal(string Host, int Port, string Rule);
