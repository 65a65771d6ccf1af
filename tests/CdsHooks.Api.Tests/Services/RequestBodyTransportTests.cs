using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Services;

/// <summary>
/// The open service with one outermost middleware that records how every request ended (its final status), keyed by
/// an <c>X-Test-Id</c> header: a test can await the end of a request whose client is gone and so reads no answer.
/// </summary>
public sealed class RequestRecordingHost : CdsServiceHost
{
    public const string TestIdHeader = "X-Test-Id";

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<int>> _ended = new();

    /// <summary>Completes when the request sent with <paramref name="testId"/> has reached the application.</summary>
    public Task StartOf(string testId) => Started(testId).Task;

    /// <summary>Completes with the final status code of the request sent with <paramref name="testId"/>.</summary>
    public Task<int> EndOf(string testId) => Ended(testId).Task;

    private TaskCompletionSource Started(string testId) =>
        _started.GetOrAdd(testId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource<int> Ended(string testId) =>
        _ended.GetOrAdd(testId, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously));

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<IStartupFilter>(new Recorder(this));

    private sealed class Recorder(RequestRecordingHost host) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                var id = context.Request.Headers[TestIdHeader].ToString();
                if (id.Length > 0) host.Started(id).TrySetResult();
                try
                {
                    await nextMiddleware(context);
                }
                finally
                {
                    if (id.Length > 0) host.Ended(id).TrySetResult(context.Response.StatusCode);
                }
            });
            next(app);
        };
    }
}

/// <summary>
/// Failures reading a request body are the client's (400 problem details) or nobody's (the client is gone), never a
/// 500: broken chunk sizes, bodies cut short, clients that reset mid-body. Raw HTTP/1.1 on a socket to real Kestrel.
/// </summary>
public sealed class RequestBodyTransportTests(RequestRecordingHost host) : IClassFixture<RequestRecordingHost>
{
    public static TheoryData<string, string> ChunkSizes => new()
    {
        { "/cds-services/rls-iron-order-select", "80000000" },
        { "/cds-services/rls-iron-order-select/feedback", "80000000" },
        { "/cds-services/rls-iron-order-select", "FFFFFFFF" },
        { "/cds-services/rls-iron-order-select/feedback", "FFFFFFFFFFFFFFFFFF" },
        { "/cds-services/rls-iron-order-select", "zz" },
    };

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public async Task ChunkSizeUnreadableOrOver2GiB_Returns400ProblemDetails(string path, string chunkSize)
    {
        await using var http = await RawHttp.ConnectAsync(host.BaseAddress);
        await http.WriteAsync(RawHttp.PostHead(path, "Transfer-Encoding: chunked") + chunkSize + "\r\n{\"hook\":\"order-select\"");

        AssertBadRequest(await http.ReadResponseAsync());
    }

    /// <summary>Kestrel takes the end of the stream (FIN) mid-body as the client leaving: nobody is left to answer.</summary>
    [Theory]
    [InlineData("/cds-services/rls-iron-order-select", "Content-Length: 5000", "{\"hook\":\"order-select\",")]
    [InlineData("/cds-services/rls-iron-order-select/feedback", "Content-Length: 5000", "{\"feedback\":[")]
    [InlineData("/cds-services/rls-iron-order-select/feedback", "Transfer-Encoding: chunked", "a\r\n{\"feedback\r\n")]
    public async Task BodyCutShort_ThenEndOfStream_EndsWithoutA500OrAnErrorLog(string path, string framing, string partialBody)
    {
        await AssertEndsQuietlyAsync(path, framing, partialBody, http => http.EndOfRequest());
    }

    [Theory]
    [InlineData("/cds-services/rls-iron-order-select", "Content-Length: 5000", "{\"hook\":\"order-select\",")]
    [InlineData("/cds-services/rls-iron-order-select/feedback", "Transfer-Encoding: chunked", "10\r\n{\"hook\":\"order-se")]
    public async Task ClientResetMidBody_EndsWithoutA500OrAnErrorLog(string path, string framing, string partialBody)
    {
        await AssertEndsQuietlyAsync(path, framing, partialBody, http => http.Reset());
    }

    /// <summary>
    /// Sends the head and part of the body, waits until the request is in the application (reading its body), breaks
    /// the connection with <paramref name="leave"/>, and checks how the request ended (its final status, as the
    /// outermost middleware saw it): 400 or 499 (client gone), never a 500, and no error logged.
    /// </summary>
    private async Task AssertEndsQuietlyAsync(string path, string framing, string partialBody, Action<RawHttp> leave)
    {
        var id = Guid.NewGuid().ToString();
        var errorsBefore = ErrorLines();
        await using (var http = await RawHttp.ConnectAsync(host.BaseAddress))
        {
            await http.WriteAsync(RawHttp.PostHead(path, framing, $"{RequestRecordingHost.TestIdHeader}: {id}") + partialBody);
            await host.StartOf(id).WaitAsync(TimeSpan.FromSeconds(10));
            leave(http);
        }

        var status = await host.EndOf(id).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(status is 400 or 499, $"the request ended with {status}");
        Assert.Equal(errorsBefore, ErrorLines());
        // The service still answers on a new connection.
        using var ready = await host.Client.GetAsync("/health/ready");
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
    }

    private string[] ErrorLines() => [.. host.Logs.Lines.Where(l => (l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))
        && !l.Contains(KestrelDrainAfterReset, StringComparison.Ordinal))];

    /// <summary>
    /// Kestrel's own line when a client resets mid-way through a Content-Length body while the application's read is
    /// pending: its drain after the request finds its inner reader still "reading" (dotnet/aspnetcore#17840, open). It
    /// comes from the server, after the application has finished; the status and the application's logs are checked.
    /// </summary>
    private const string KestrelDrainAfterReset = "automatic draining of the request body failed because the body reader is in an invalid state";

    private static void AssertBadRequest(RawResponse response)
    {
        Assert.True(response.Status == 400, $"{response.Status}: {response.Body}");
        Assert.Equal("application/problem+json", response.Headers["content-type"].Split(';')[0]);
        using var problem = JsonDocument.Parse(response.Body);
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
    }
}
