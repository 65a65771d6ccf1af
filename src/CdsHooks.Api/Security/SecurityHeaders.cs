using Microsoft.Net.Http.Headers;

namespace CdsHooks.Api.Security;

/// <summary>
/// Response headers on every answer: <c>nosniff</c>, no referrer, a CSP that loads nothing (an area serving HTML,
/// the dashboard, sets its own), and <c>no-store</c> under <see cref="CdsSecurity.ProtectedPaths"/>.
/// </summary>
internal static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(AddSecurityHeaders, context);
            return next(context);
        });

    private static Task AddSecurityHeaders(object state)
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // JSON only: nothing here may load scripts or be framed. An area serving HTML (the dashboard) sets its own, kept here.
        if (!CdsSecurity.IsProtected(context.Request.Path) && headers.ContainsKey(HeaderNames.ContentSecurityPolicy)) return Task.CompletedTask;
        headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
        // Cards are about one patient at one moment: no cache may keep them.
        if (CdsSecurity.IsProtected(context.Request.Path)) headers.CacheControl = "no-store";
        return Task.CompletedTask;
    }
}
