using Dora.Core.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dora.Hosting;

/// <summary>
/// Token authentication for Dora's HTTP faces (the worker's HTTP API, the scheduler's REST API): with tokens
/// configured, every request must carry <c>Authorization: Bearer &lt;token&gt;</c> with one of them, except
/// <c>/healthz</c> (what load balancers and orchestrators probe) and, when the operator opens it explicitly,
/// <c>/metrics</c>. A missing and a wrong token get the same 401 problem, which names what is missing and never quotes
/// what was sent.
/// </summary>
public static class BearerTokens
{
    /// <summary>Requires the tokens on every path but the open ones; does nothing when <paramref name="tokens"/> is null.</summary>
    public static IApplicationBuilder UseBearerTokens(this IApplicationBuilder app, TokenSet? tokens, bool openMetrics)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (tokens is null)
        {
            return app;
        }

        var audit = new RefusalAudit(app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Dora.Security"), "HTTP");
        return app.Use(async (context, next) =>
        {
            string? presented = Presented(context.Request);
            if (IsOpen(context.Request.Path, openMetrics) || tokens.Accepts(presented))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            audit.Refused(context.Connection.RemoteIpAddress?.ToString() ?? "?", presented is null ? $"no token ({context.Request.Method} {context.Request.Path})" : $"a token that is not accepted ({context.Request.Method} {context.Request.Path})");

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized",
                detail: "this server requires a token: send the header 'Authorization: Bearer <token>' with one of the cluster's tokens").ExecuteAsync(context).ConfigureAwait(false);
        });
    }

    private static bool IsOpen(PathString path, bool openMetrics) =>
        path.Equals("/healthz", StringComparison.Ordinal) || (openMetrics && path.Equals("/metrics", StringComparison.Ordinal));

    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null.</summary>
    private static string? Presented(HttpRequest request)
    {
        string? value = request.Headers.Authorization;
        return value is not null && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value["Bearer ".Length..].Trim() : null;
    }
}
