namespace Dora.S3Gateway.Protocol;

/// <summary>
/// An S3 error answer: S3's code, HTTP status and message, and the resource it concerns; written as S3's XML error
/// document (<c>S3Xml.ErrorAsync</c>). Every refusal of the gateway is one of these, so S3 clients map them as they
/// would a real bucket's.
/// </summary>
public sealed class S3Exception(int status, string code, string message, string? resource = null) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public string? Resource { get; } = resource;

    /// <summary>Extra headers the answer carries (e.g. Content-Range of an unsatisfiable range).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public static S3Exception NoSuchBucket(string bucket) => new(404, "NoSuchBucket", "The specified bucket does not exist", bucket);

    public static S3Exception NoSuchKey(string resource) => new(404, "NoSuchKey", "The specified key does not exist.", resource);

    public static S3Exception AccessDenied(string message, string? resource = null) => new(403, "AccessDenied", message, resource);

    public static S3Exception InvalidArgument(string message, string? resource = null) => new(400, "InvalidArgument", message, resource);

    public static S3Exception NotImplemented(string what, string? resource = null) =>
        new(501, "NotImplemented", $"A header or operation you provided implies functionality that is not implemented: {what}", resource);

    public static S3Exception MethodNotAllowed(string method, string? resource) => new(405, "MethodNotAllowed", $"The specified method is not allowed against this resource: {method}", resource);

    public static S3Exception InvalidRange(long length, string? resource) => new(416, "InvalidRange", "The requested range is not satisfiable", resource)
    {
        Headers = new Dictionary<string, string> { ["Content-Range"] = $"bytes */{length}" },
    };

    public static S3Exception PreconditionFailed(string condition, string? resource) =>
        new(412, "PreconditionFailed", $"At least one of the pre-conditions you specified did not hold: {condition}", resource);

    public static S3Exception InternalError(string? resource) => new(500, "InternalError", "We encountered an internal error. Please try again.", resource);

    public static S3Exception ServiceUnavailable(string message, string? resource) => new(503, "ServiceUnavailable", message, resource);
}
