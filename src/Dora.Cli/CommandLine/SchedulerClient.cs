using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Dora.Registry;
using Dora.Scheduler.Jobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Cli.CommandLine;

/// <summary>
/// The scheduler's REST API from client commands. The scheduler is found from <c>--scheduler URL</c>, else from the
/// cluster's registry (etcd, or the <c>.dora/cluster.json</c> of <c>dora local</c>).
/// </summary>
internal sealed class SchedulerClient(HttpClient http) : IDisposable
{
    /// <summary>Adds <c>--scheduler</c> and the registry options it falls back to.</summary>
    public static void AddOptions(Command command)
    {
        CliOptions.AddTo(command, CliOptions.Value("--scheduler", "URL", "the scheduler's REST API (default: $DORA_SCHEDULER, else the one the cluster's registry advertises)"));
        RegistrySettings.AddOptions(command);
        TokenOption.AddTo(command, "the token to present to the scheduler, when it requires one (the first of the file)");
        TlsOptions.AddClientOptions(command);
    }

    public static async Task<SchedulerClient> ConnectAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string? url = reader.String("--scheduler") ?? Environment.GetEnvironmentVariable("DORA_SCHEDULER");
        if (url is null)
        {
            RegistrySettings settings = RegistrySettings.Read(reader);
            await using IClusterRegistry registry = settings.Open(leaseTtl: null, NullLogger.Instance);
            SchedulerRecord record = await registry.ReadSchedulerAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new UsageException($"no scheduler is advertised in {registry.Description}: start one (dora scheduler, or dora local) or pass --scheduler URL");
            url = record.Url;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"option '--scheduler' must be an http:// or https:// URL (was '{url}')");
        }

        Dora.Core.Security.ClientTls tls = TlsOptions.Read(reader, server: false).Client;
        if (tls.Required && baseUri.Scheme == "http")
        {
            throw new UsageException(Dora.Core.Security.ClientTls.PlaintextRefused($"the scheduler ({baseUri})"));
        }

        var http = new HttpClient(tls.CreateHandler()) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        if (TokenOption.Read(reader) is { } tokens)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.Current);
        }

        return new SchedulerClient(http);
    }

    public Uri BaseAddress => http.BaseAddress!;

    public Task<JobDocument> SubmitAsync(byte[] body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/v1/jobs", body, cancellationToken);

    public Task<JobDocument> GetAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"api/v1/jobs/{Uri.EscapeDataString(id)}", null, cancellationToken);

    public Task<JobDocument> DeleteAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, $"api/v1/jobs/{Uri.EscapeDataString(id)}", null, cancellationToken);

    public Task<JobDocument> CancelAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"api/v1/jobs/{Uri.EscapeDataString(id)}/cancel", null, cancellationToken);

    public async Task<List<JobDocument>> ListAsync(CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await RequestAsync(HttpMethod.Get, "api/v1/jobs", null, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(SchedulerJson.Default.ListJobDocument, cancellationToken).ConfigureAwait(false) ?? [];
    }

    private async Task<JobDocument> SendAsync(HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await RequestAsync(method, path, body, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(SchedulerJson.Default.JobDocument, cancellationToken).ConfigureAwait(false)
            ?? throw new IOException($"the scheduler at {http.BaseAddress} answered {path} with an empty body");
    }

    /// <summary>Sends a request; an error status becomes an exception carrying the problem's detail.</summary>
    private async Task<HttpResponseMessage> RequestAsync(HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } };
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"cannot reach the scheduler at {http.BaseAddress}: {e.Message}", e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        response.Dispose();
        string detail = text;
        try
        {
            using JsonDocument problem = JsonDocument.Parse(text);
            if (problem.RootElement.TryGetProperty("detail", out JsonElement value))
            {
                detail = value.GetString() ?? text;
            }
        }
        catch (JsonException)
        {
        }

        throw response.StatusCode == System.Net.HttpStatusCode.BadRequest
            ? new UsageException($"the scheduler refused the job: {detail}")
            : new IOException($"the scheduler answered {(int)response.StatusCode}: {detail}");
    }

    public void Dispose() => http.Dispose();

    /// <summary>A JSON body written with <paramref name="write"/>.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.ToArray();
    }
}
