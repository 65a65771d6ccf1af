using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CdsHooks.Api.Tests.Dashboard;

/// <summary>
/// Plain HTTP against the dashboard with cookies handled by hand: the cookies are Secure, which .NET's cookie container
/// would not send over http to loopback (a browser does), and the tests look at every Set-Cookie attribute anyway.
/// </summary>
public sealed partial class DashboardClient(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = baseAddress };

    public async Task<HttpResponseMessage> GetAsync(string path, string? cookies = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookies is not null) request.Headers.Add("Cookie", cookies);
        return await _http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields, string? cookies = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
        if (cookies is not null) request.Headers.Add("Cookie", cookies);
        return await _http.SendAsync(request);
    }

    /// <summary>The login form's CSRF field and the cookie that goes with it.</summary>
    public async Task<(string Csrf, string LoginCookie)> OpenLoginFormAsync()
    {
        using var form = await GetAsync("/dashboard/login");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var html = await form.Content.ReadAsStringAsync();
        var csrf = WebUtility.HtmlDecode(CsrfField().Match(html).Groups[1].Value);
        return (csrf, CookiePair(form, "__Secure-cds-dashboard-login")!);
    }

    /// <summary>Signs in with <paramref name="key"/>; returns the session cookie pair (name=value) to send.</summary>
    public async Task<string> SignInAsync(string key = DashboardHost.OperatorKey)
    {
        var (csrf, loginCookie) = await OpenLoginFormAsync();
        using var response = await PostFormAsync("/dashboard/login", [new("csrf", csrf), new("key", key)], loginCookie);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return CookiePair(response, "__Secure-cds-dashboard")!;
    }

    public async Task<JsonElement> ReportAsync(string cookies, string query = "")
    {
        using var response = await GetAsync("/dashboard/api/report" + query, cookies);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static string? SetCookie(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.FirstOrDefault(v => v.StartsWith(name + "=", StringComparison.Ordinal)) : null;

    public static string? CookiePair(HttpResponseMessage response, string name) => SetCookie(response, name)?.Split(';')[0];

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
