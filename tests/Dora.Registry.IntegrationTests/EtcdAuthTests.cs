using Dora.Core.Security;
using Dora.Registry.Etcd;
using Dora.TestSupport;

namespace Dora.Registry.IntegrationTests;

/// <summary>
/// The etcd registry with TLS and a user: the auth token is fetched once and fetched again after etcd stops accepting
/// it (a restart forgets every token), so a long-running worker keeps its registration through an etcd restart.
/// </summary>
public sealed class EtcdAuthTests : IDisposable
{
    private const string Password = "worker-password";
    private readonly TestCertificates _ca = new();

    public void Dispose() => _ca.Dispose();

    [Fact]
    public async Task A_registration_and_reads_survive_an_etcd_restart_that_forgets_every_auth_token()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartSecureAsync(_ca);
        Assert.Equal(0, (await etcd.EtcdctlAsync(null, Password, "user", "add", "root", "--interactive=false")).ExitCode);
        Assert.Equal(0, (await etcd.EtcdctlAsync(null, null, "user", "grant-role", "root", "root")).ExitCode);
        Assert.Equal(0, (await etcd.EtcdctlAsync(null, null, "auth", "enable")).ExitCode);

        CertificatePair client = _ca.Client("someone");
        var credentials = new EtcdCredentials
        {
            Tls = new ClientTls(TlsTrust.FromCaFile(_ca.CaFile), CertificateFiles.Load(client.CertificateFile, client.KeyFile), Required: true),
            User = "root",
            Password = Password,
        };
        await using var registry = new EtcdRegistry(new EtcdRegistryOptions { Endpoints = [new Uri($"http://127.0.0.1:{etcd.ClientPort}")], Cluster = "auth", Credentials = credentials, LeaseTtl = TimeSpan.FromSeconds(30) });
        var worker = new WorkerRecord { Id = "w1", Host = "127.0.0.1", StreamPort = 1 };
        await using IWorkerRegistration registration = await registry.RegisterAsync(worker, new RegistrationOptions(), default).Within();
        Assert.Equal("w1", Assert.Single((await registry.ReadAsync(default).Within()).Workers).Id);

        await etcd.StopAsync();
        await etcd.StartAgainAsync();

        // The first call after the restart presents a token etcd no longer knows; the retry authenticates again.
        Membership after = await RetryAsync(() => registry.ReadAsync(default));
        Assert.Equal("w1", Assert.Single(after.Workers).Id);
        await registration.UpdateAsync(worker with { State = WorkerRecord.Degraded, Reasons = ["test"] }, default).Within();
        Assert.Equal(WorkerRecord.Degraded, Assert.Single((await registry.ReadAsync(default).Within()).Workers).State);
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call().Within();
            }
            catch (RegistryUnavailableException) when (attempt < 20)
            {
                await Task.Delay(100);
            }
        }
    }
}
