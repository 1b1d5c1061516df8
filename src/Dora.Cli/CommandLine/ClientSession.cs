using System.CommandLine;
using Dora.Client;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Cli.CommandLine;

/// <summary>What client commands share: finding the cluster and connecting a <see cref="DoraClient"/> to it.</summary>
internal static class ClientSession
{
    /// <summary>Adds the options every client command takes: the registry's, the placement policy's and the token.</summary>
    public static void AddOptions(Command command)
    {
        RegistrySettings.AddOptions(command);
        RegistrySettings.AddPolicyOptions(command);
        TokenOption.AddTo(command, "the token to present to the workers, when they require one (the first of the file)");
        TlsOptions.AddClientOptions(command);
    }

    /// <summary>Reads the cluster options (<see cref="RegistrySettings"/>, policy, token, TLS) a client command takes.</summary>
    public static (RegistrySettings Registry, DoraClientOptions Options) Read(ArgumentReader reader)
    {
        var registry = RegistrySettings.Read(reader);
        var view = RegistrySettings.ReadViewOptions(reader);
        string? token = TokenOption.Read(reader)?.Current;
        return (registry, new DoraClientOptions { Cluster = view, AuthToken = token, Tls = TlsOptions.Read(reader, server: false).Client });
    }

    /// <summary>Connects; the caller disposes the client, which also closes the registry it opened.</summary>
    public static async Task<ConnectedClient> ConnectAsync(RegistrySettings registry, DoraClientOptions options, CancellationToken cancellationToken)
    {
        var opened = registry.Open(leaseTtl: null, NullLogger.Instance);
        try
        {
            var client = await DoraClient.ConnectAsync(opened, options, NullLogger.Instance, cancellationToken).ConfigureAwait(false);
            return new ConnectedClient(client, opened);
        }
        catch
        {
            await opened.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>A client with the registry it follows; disposing closes both.</summary>
internal sealed class ConnectedClient(DoraClient client, Registry.IClusterRegistry registry) : IAsyncDisposable
{
    public DoraClient Client => client;

    public async ValueTask DisposeAsync()
    {
        await client.DisposeAsync().ConfigureAwait(false);
        await registry.DisposeAsync().ConfigureAwait(false);
    }
}
