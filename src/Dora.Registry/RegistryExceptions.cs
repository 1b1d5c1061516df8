using Dora.Core.Errors;

namespace Dora.Registry;

/// <summary>Another live worker already holds the id this worker tried to register. Permanent.</summary>
public sealed class DuplicateWorkerIdException(string workerId, string heldBy, string registry)
    : DoraException(
        $"Worker id '{workerId}' is already registered in {registry} by a live worker ({heldBy}). Two workers must not " +
        "share an id: give this worker its own cache directory (the id is kept there) or a different --worker-id.")
{
    /// <summary>The contested id.</summary>
    public string WorkerId { get; } = workerId;
}

/// <summary>The registry cannot be reached or refused the request. Transient.</summary>
public sealed class RegistryUnavailableException(string message, Exception? inner = null)
    : DoraException(message, isTransient: true, inner);

/// <summary>
/// etcd refused this process's credentials or what they allow: a wrong user or password, a missing client certificate,
/// or a key the user's role may not write. Not transient: retrying does not help until the credentials or roles change.
/// </summary>
public sealed class RegistryAccessDeniedException(string message, Exception? inner = null)
    : DoraException(message, isTransient: false, inner);
