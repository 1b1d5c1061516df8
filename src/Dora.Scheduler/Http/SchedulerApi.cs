using Dora.Scheduler.Jobs;
using Dora.Scheduler.Running;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dora.Scheduler.Http;

/// <summary>The scheduler's REST API (docs/scheduler.md): jobs under <c>/api/v1/jobs</c>, <c>/healthz</c>, <c>/metrics</c>.</summary>
internal static class SchedulerApi
{
    /// <summary>Largest request body read: 1 MiB.</summary>
    private const int MaxBodyBytes = 1 << 20;

    public static void Map(IEndpointRouteBuilder routes, JobScheduler jobs)
    {
        routes.MapPost("/api/v1/jobs", async (HttpRequest request, HttpContext context) =>
        {
            byte[]? body = await ReadBodyAsync(request).ConfigureAwait(false);
            if (body is null)
            {
                return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the request body is over {MaxBodyBytes} bytes", "body");
            }

            try
            {
                JobDocument job = jobs.Submit(LoadJobSpec.Parse(body), context.Connection.RemoteIpAddress?.ToString() ?? string.Empty);
                return Results.Json(job, SchedulerJson.Default.JobDocument, statusCode: StatusCodes.Status202Accepted);
            }
            catch (JobSpecException e)
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid job", e.Message, e.Field);
            }
            catch (InvalidOperationException e)
            {
                return Problem(StatusCodes.Status429TooManyRequests, "Too many jobs", e.Message, null);
            }
        });
        routes.MapGet("/api/v1/jobs", () => Results.Json(jobs.List().ToList(), SchedulerJson.Default.ListJobDocument));
        routes.MapGet("/api/v1/jobs/{id}", (string id) => jobs.Get(id) is { } job
            ? Results.Json(job, SchedulerJson.Default.JobDocument)
            : NoSuchJob(id));
        routes.MapPost("/api/v1/jobs/{id}/cancel", async (string id) => await jobs.CancelAsync(id).ConfigureAwait(false) is { } job
            ? Results.Json(job, SchedulerJson.Default.JobDocument)
            : NoSuchJob(id));
        routes.MapDelete("/api/v1/jobs/{id}", async (string id) => await jobs.DeleteAsync(id).ConfigureAwait(false) is { } job
            ? Results.Json(job, SchedulerJson.Default.JobDocument)
            : NoSuchJob(id));
        routes.MapGet("/healthz", () => Results.Text("ok\n"));
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 << 10];
        int read;
        while ((read = await request.Body.ReadAsync(chunk).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static IResult NoSuchJob(string id) => Problem(StatusCodes.Status404NotFound, "No such job", $"there is no job '{id}' (finished jobs are removed after the retention period)", null);

    /// <summary>An RFC 7807 problem; <paramref name="field"/> names the request field at fault.</summary>
    private static IResult Problem(int status, string title, string detail, string? field) =>
        Results.Problem(detail: detail, statusCode: status, title: title, extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });
}
