using Dora.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Dora.Worker.Http;

/// <summary>Maps Dora errors to HTTP statuses with an RFC 7807 problem body naming what was wrong.</summary>
internal static class HttpProblems
{
    public static IResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static IResult From(DoraException error) => error switch
    {
        InvalidPathException => Problem(StatusCodes.Status400BadRequest, "Invalid path", error.Message),
        DoraFileNotFoundException => Problem(StatusCodes.Status404NotFound, "Not found", error.Message),
        InvalidRangeException => Problem(StatusCodes.Status416RangeNotSatisfiable, "Range not satisfiable", error.Message),
        VersionMismatchException => Problem(StatusCodes.Status412PreconditionFailed, "Precondition failed", error.Message),
        FileChangedException => Problem(StatusCodes.Status503ServiceUnavailable, "File changed while being read", error.Message),
        UnderStorageException { IsTransient: true } => Problem(StatusCodes.Status503ServiceUnavailable, "Under storage unavailable", error.Message),
        UnderStorageException => Problem(StatusCodes.Status502BadGateway, "Under storage error", error.Message),
        _ => Problem(StatusCodes.Status500InternalServerError, "Dora error", error.Message),
    };

    public static IResult Problem(int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title);
}
