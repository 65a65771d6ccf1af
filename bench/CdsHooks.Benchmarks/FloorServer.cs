using System.Globalization;
using CdsHooks.Api.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CdsHooks.Benchmarks;

/// <summary>
/// <c>floor --port P --response FILE</c>: the most a CDS service could do on this machine. A bare Kestrel endpoint
/// that reads each request body whole (as the service does) and answers with a fixed JSON response (the service's
/// real answer to the same request), without parsing, rules, logging or middleware. Load on it with the same wrk
/// script measures the HTTP stack, the kernel's loopback and the load tool: the ceiling for every scenario.
/// </summary>
public static class FloorServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        var o = CommandLine.Parse(args);
        var port = int.Parse(o.GetValueOrDefault("port", "5188"), CultureInfo.InvariantCulture);
        var response = o.TryGetValue("response", out var file) ? await File.ReadAllBytesAsync(file) : "{\"cards\":[]}"u8.ToArray();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.Map("/{**path}", async (HttpContext http) =>
        {
            // The service's own whole-body read, then nothing: the body is dropped unparsed.
            var body = http.Request.BodyReader;
            body.AdvanceTo((await JsonRequestBody.ReadWholeAsync(body, http.RequestAborted)).Buffer.End);
            http.Response.ContentType = "application/json";
            http.Response.ContentLength = response.Length;
            await http.Response.Body.WriteAsync(response, http.RequestAborted);
        });
        Console.WriteLine($"floor server at http://127.0.0.1:{port}, answering {response.Length} bytes");
        await app.RunAsync();
        return 0;
    }
}
