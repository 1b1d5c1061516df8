namespace Dora.Core.Errors;

/// <summary>The membership has no worker, so no path has an owner. Transient: workers may be starting.</summary>
public sealed class NoWorkersException : DoraException
{
    public NoWorkersException()
        : base("No worker is registered in the cluster, so no path has an owner.", isTransient: true)
    {
    }
}
