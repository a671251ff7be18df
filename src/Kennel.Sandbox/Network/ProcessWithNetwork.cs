namespace Kennel.Sandbox.Network;

/// <summary>A sandbox with network: its exit carries what the network moved, and its disposal removes the namespace.</summary>
internal sealed class ProcessWithNetwork(ISandboxProcess inner, EgressAttachment network) : ISandboxProcess
{
    public Stream StandardOutput => inner.StandardOutput;
    public Stream StandardError => inner.StandardError;

    public async Task<SandboxExit> WaitForExitAsync(CancellationToken cancellationToken) =>
        await inner.WaitForExitAsync(cancellationToken) with { Egress = network.Session.Usage() };

    public Task KillAsync() => inner.KillAsync();

    public async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await network.DisposeAsync();
    }
}
