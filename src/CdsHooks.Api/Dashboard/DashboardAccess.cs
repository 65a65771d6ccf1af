using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CdsHooks.Api.Analytics;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Dashboard;

/// <summary>Who may see the dashboard.</summary>
public enum DashboardAccessMode
{
    /// <summary>Development without <c>Analytics:ApiKey</c>: no login (like the open CDS mode).</summary>
    Open,
    /// <summary>Outside Development without <c>Analytics:ApiKey</c>: nobody, until a key is configured.</summary>
    Locked,
    /// <summary><c>Analytics:ApiKey</c> set: the key is entered once and exchanged for a session cookie.</summary>
    OperatorKey,
}

/// <summary>
/// The operator key exchanged for a session cookie, and the CSRF tokens of the dashboard's forms. Both are HMAC-SHA256
/// tokens under a key derived from <c>Analytics:ApiKey</c>: every node that shares the configuration accepts them
/// (no shared Data Protection key ring needed), and changing the operator key ends every session at once.
/// </summary>
public sealed class DashboardAccess
{
    /// <summary><c>__Secure-</c>: browsers accept the cookie only with the Secure flag (https, or http on loopback).</summary>
    public const string SessionCookie = "__Secure-cds-dashboard";
    public const string LoginCookie = "__Secure-cds-dashboard-login";
    public const string CookiePath = "/dashboard";
    public const string CsrfField = "csrf";
    private const string Version = "v1";
    private static readonly TimeSpan LoginFormLifetime = TimeSpan.FromMinutes(30);

    private readonly byte[]? _macKey;
    private readonly byte[]? _operatorKeyHash;
    private readonly TimeProvider _clock;

    public DashboardAccess(IOptions<AnalyticsOptions> analytics, IOptions<DashboardOptions> options, IHostEnvironment environment, TimeProvider clock)
    {
        _clock = clock;
        SessionLifetime = TimeSpan.FromMinutes(options.Value.SessionMinutes);
        if (analytics.Value.RequiresApiKey)
        {
            var key = Encoding.UTF8.GetBytes(analytics.Value.ApiKey!.Trim());
            Mode = DashboardAccessMode.OperatorKey;
            _operatorKeyHash = SHA256.HashData(key);
            _macKey = HMACSHA256.HashData(key, "cds-dashboard-session-v1"u8);
        }
        else
        {
            Mode = environment.IsDevelopment() ? DashboardAccessMode.Open : DashboardAccessMode.Locked;
        }
    }

    public DashboardAccessMode Mode { get; }

    public TimeSpan SessionLifetime { get; }

    /// <summary>The operator key, compared in constant time (hashes of equal length, whatever was typed).</summary>
    public bool IsOperatorKey(string? candidate) =>
        _operatorKeyHash is not null && CryptographicOperations.FixedTimeEquals(_operatorKeyHash, SHA256.HashData(Encoding.UTF8.GetBytes(candidate?.Trim() ?? "")));

    /// <summary>May this request see the dashboard? Open mode: always; locked: never; otherwise a valid session cookie.</summary>
    public bool IsSignedIn(HttpContext context, out string? sessionId)
    {
        sessionId = null;
        return Mode switch
        {
            DashboardAccessMode.Open => true,
            DashboardAccessMode.OperatorKey => TryReadSession(context.Request.Cookies[SessionCookie], out sessionId),
            _ => false,
        };
    }

    /// <summary>Sets the session cookie (after the key was checked).</summary>
    public void SignIn(HttpContext context)
    {
        var expires = _clock.GetUtcNow() + SessionLifetime;
        var payload = $"{Version}.{expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}.{Nonce()}";
        context.Response.Cookies.Append(SessionCookie, payload + "." + Mac("session." + payload), CookieOptions(expires));
        context.Response.Cookies.Delete(LoginCookie, CookieOptions(null));
    }

    public void SignOut(HttpContext context) => context.Response.Cookies.Delete(SessionCookie, CookieOptions(null));

    /// <summary>The CSRF token for forms posted inside a session (sign-out): bound to that session.</summary>
    public string SessionCsrfToken(string sessionId) => Mac("csrf." + sessionId);

    public bool IsSessionCsrfToken(string sessionId, string? token) => token is not null && FixedEquals(SessionCsrfToken(sessionId), token);

    /// <summary>
    /// The login form's CSRF token (double submit): a signed nonce set as an HttpOnly, SameSite=Strict cookie and put
    /// in the form; the post must carry both, equal. A page on another site can neither read nor set the cookie.
    /// </summary>
    public string IssueLoginToken(HttpContext context)
    {
        var nonce = Nonce();
        var token = nonce + "." + Mac("login." + nonce);
        context.Response.Cookies.Append(LoginCookie, token, CookieOptions(_clock.GetUtcNow() + LoginFormLifetime));
        return token;
    }

    public bool IsLoginToken(HttpContext context, string? formToken)
    {
        var cookie = context.Request.Cookies[LoginCookie];
        if (cookie is null || formToken is null || !FixedEquals(cookie, formToken)) return false;
        var dot = cookie.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && FixedEquals(Mac("login." + cookie[..dot]), cookie[(dot + 1)..]);
    }

    private bool TryReadSession(string? cookie, out string? sessionId)
    {
        sessionId = null;
        if (_macKey is null || cookie is null || cookie.Length > 200) return false;
        var last = cookie.LastIndexOf('.');
        if (last <= 0) return false;
        var payload = cookie[..last];
        if (!FixedEquals(Mac("session." + payload), cookie[(last + 1)..])) return false;
        var parts = payload.Split('.');
        if (parts.Length != 3 || parts[0] != Version) return false;
        if (!long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)) return false;
        if (_clock.GetUtcNow().ToUnixTimeSeconds() >= expires) return false;
        sessionId = parts[2];
        return true;
    }

    private CookieOptions CookieOptions(DateTimeOffset? expires) => new()
    {
        Path = CookiePath,
        HttpOnly = true,
        Secure = true,
        SameSite = SameSiteMode.Strict,
        IsEssential = true,
        Expires = expires,
        MaxAge = expires is { } e ? e - _clock.GetUtcNow() : null,
    };

    private string Mac(string data) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(_macKey ?? throw new InvalidOperationException("No operator key configured."), Encoding.UTF8.GetBytes(data)));

    private static string Nonce() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(18));

    private static bool FixedEquals(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(actual));
}
