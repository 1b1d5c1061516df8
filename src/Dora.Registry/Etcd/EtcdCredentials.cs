namespace Dora.Registry.Etcd;

/// <summary>
/// How a Dora process proves itself to etcd and checks etcd in turn: TLS (the CA etcd's certificate must chain to,
/// and a client certificate when etcd runs with <c>--client-cert-auth</c>) and an etcd user with its password (etcd's
/// RBAC then decides what the user may read and write; docs/registry.md). The password is never part of a message.
/// </summary>
public sealed record EtcdCredentials
{
    /// <summary>TLS toward etcd (endpoints become <c>https://</c>); null: plaintext.</summary>
    public Dora.Core.Security.ClientTls? Tls { get; init; }

    /// <summary>The etcd user; null: no password authentication (a client certificate's common name may still name a user).</summary>
    public string? User { get; init; }

    /// <summary>The etcd user's password (from a file or the environment, never argv).</summary>
    public string? Password { get; init; }

    /// <summary>No TLS, no user.</summary>
    public static EtcdCredentials None { get; } = new();

    /// <summary>True when <see cref="User"/> is set and calls must carry an auth token.</summary>
    public bool HasUser => User is not null;

    public override string ToString() => $"{(Tls is null ? "plaintext" : "TLS")}{(User is null ? string.Empty : $", user '{User}'")}";
}
