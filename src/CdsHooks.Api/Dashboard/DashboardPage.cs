using System.Globalization;
using System.Text;
using CdsHooks.Storage;
using static CdsHooks.Api.Dashboard.SvgCharts;

namespace CdsHooks.Api.Dashboard;

/// <summary>What one rendering of the dashboard shows: the filter as chosen and the report (or why there is none).</summary>
internal sealed record DashboardView(
    DateOnly From,
    DateOnly To,
    string? Service,
    IReadOnlyList<string> Services,
    CardReport? Report,
    IReadOnlyDictionary<string, string[]>? Errors,
    bool StoreUnavailable,
    DashboardAccessMode Mode,
    string? SignOutCsrf)
{
    /// <summary>The filter as a query string: the page, the CSV and the JSON report take the same parameters.</summary>
    public string Query => $"from={Day(From)}&to={Day(To)}" + (Service is null ? "" : "&service=" + Uri.EscapeDataString(Service));
}

/// <summary>
/// The dashboard as one server-rendered HTML page: a filter form (GET), the per-card-kind table with a CSV link, and
/// per card kind the weekly trend, override reasons and suggestions accepted as SVG, each with its numbers in a
/// table. It draws only what <see cref="CardReport"/> holds. All text from the store (override reason displays come
/// from EHRs) is HTML-encoded.
/// </summary>
internal static class DashboardPage
{
    public const string Stylesheet = "/dashboard/assets/dashboard.css";

    public static string Render(DashboardView view)
    {
        var html = new StringBuilder(64 * 1024);
        Head(html, "Card dashboard");
        html.Append("<header><h1>RLS Iron CDS · card dashboard</h1>");
        if (view.SignOutCsrf is not null)
        {
            html.Append("<form method=\"post\" action=\"/dashboard/logout\" class=\"signout\"><input type=\"hidden\" name=\"")
                .Append(DashboardAccess.CsrfField).Append("\" value=\"").Append(Encode(view.SignOutCsrf)).Append("\"><button type=\"submit\">Sign out</button></form>");
        }
        if (view.Mode == DashboardAccessMode.Open)
        {
            html.Append("<p class=\"notice\" role=\"note\">Open: Development without <code>Analytics:ApiKey</code>, so no sign-in is asked for. Set the key before exposing this service.</p>");
        }
        html.Append("</header><main id=\"main\" tabindex=\"-1\">");
        Filters(html, view);

        if (view.StoreUnavailable)
        {
            html.Append("<section class=\"message error\" role=\"alert\" id=\"store-unavailable\"><h2>The card store is unavailable</h2>")
                .Append("<p>The database holding the card log and feedback does not answer, so there are no figures to show. ")
                .Append("Nothing is lost: try again in a moment; if it persists, check <code>/health/ready</code> and the service log.</p></section>");
        }
        else if (view.Report is { } report)
        {
            Period(html, view, report);
            if (report.CardKinds.Count == 0) Empty(html, view);
            else
            {
                Table(html, view, report);
                foreach (var kind in report.CardKinds) KindSection(html, kind);
            }
        }
        html.Append("</main></body></html>");
        return html.ToString();
    }

    public static string RenderLogin(string csrfToken, string? error)
    {
        var html = new StringBuilder(4096);
        Head(html, "Sign in");
        html.Append("<header><h1>RLS Iron CDS · card dashboard</h1></header><main id=\"main\" tabindex=\"-1\" class=\"login\">")
            .Append("<h2>Sign in</h2><p>Enter the operator key (<code>Analytics:ApiKey</code>). It is exchanged for a session cookie; the key itself is not kept by the browser.</p>");
        if (error is not null) html.Append("<p class=\"message error\" role=\"alert\" id=\"login-error\">").Append(Encode(error)).Append("</p>");
        html.Append("<form method=\"post\" action=\"/dashboard/login\"><input type=\"hidden\" name=\"").Append(DashboardAccess.CsrfField).Append("\" value=\"").Append(Encode(csrfToken)).Append("\">")
            .Append("<label for=\"key\">Operator key</label><input type=\"password\" id=\"key\" name=\"key\" autocomplete=\"current-password\" required autofocus>")
            .Append("<button type=\"submit\">Sign in</button></form></main></body></html>");
        return html.ToString();
    }

    public static string RenderLocked()
    {
        var html = new StringBuilder(2048);
        Head(html, "Locked");
        html.Append("<header><h1>RLS Iron CDS · card dashboard</h1></header><main id=\"main\" tabindex=\"-1\"><section class=\"message\" role=\"alert\"><h2>The dashboard is locked</h2>")
            .Append("<p>Outside Development the dashboard needs an operator key. Set <code>Analytics__ApiKey</code> (at least 16 characters) and restart; then sign in here with it.</p></section></main></body></html>");
        return html.ToString();
    }

    private static void Head(StringBuilder html, string title)
    {
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"referrer\" content=\"no-referrer\"><title>").Append(Encode(title)).Append(" · RLS Iron CDS</title>")
            .Append("<link rel=\"stylesheet\" href=\"").Append(Stylesheet).Append("\"></head><body>")
            .Append("<a class=\"skip\" href=\"#main\">Skip to the content</a>");
    }

    private static void Filters(StringBuilder html, DashboardView view)
    {
        html.Append("<form method=\"get\" action=\"/dashboard\" class=\"filters\" aria-label=\"Period and service\">")
            .Append("<div><label for=\"from\">From</label><input type=\"date\" id=\"from\" name=\"from\" value=\"").Append(Day(view.From)).Append("\"></div>")
            .Append("<div><label for=\"to\">To (inclusive)</label><input type=\"date\" id=\"to\" name=\"to\" value=\"").Append(Day(view.To)).Append("\"></div>")
            .Append("<div><label for=\"service\">Service</label><select id=\"service\" name=\"service\"><option value=\"\">All services</option>");
        foreach (var s in view.Services)
        {
            html.Append("<option value=\"").Append(Encode(s)).Append('"').Append(s == view.Service ? " selected" : "").Append('>').Append(Encode(s)).Append("</option>");
        }
        html.Append("</select></div><button type=\"submit\">Show</button></form>");
        if (view.Errors is { Count: > 0 } errors)
        {
            html.Append("<div class=\"message error\" role=\"alert\" id=\"filter-errors\"><h2>The period or service is not valid</h2><ul>");
            foreach (var (field, messages) in errors)
            {
                foreach (var m in messages) html.Append("<li><a href=\"#").Append(Encode(field)).Append("\">").Append(Encode(m)).Append("</a></li>");
            }
            html.Append("</ul></div>");
        }
    }

    private static void Period(StringBuilder html, DashboardView view, CardReport report)
    {
        html.Append("<p class=\"period\" id=\"period\">Cards issued and feedback received from <strong>").Append(Day(view.From)).Append("</strong> to <strong>")
            .Append(Day(view.To)).Append("</strong> (UTC days, inclusive), ").Append(view.Service is null ? "all services" : "service <strong>" + Encode(view.Service) + "</strong>").Append('.');
        var unmatched = report.UnmatchedFeedback.Accepted + report.UnmatchedFeedback.Overridden;
        if (unmatched > 0)
        {
            html.Append(CultureInfo.InvariantCulture, $" Feedback on cards this store never logged: {N(report.UnmatchedFeedback.Accepted)} accepted, {N(report.UnmatchedFeedback.Overridden)} overridden (not in the figures).");
        }
        html.Append("</p>");
    }

    private static void Empty(StringBuilder html, DashboardView view)
    {
        html.Append("<section class=\"message empty\" id=\"empty-state\"><h2>No cards in this period</h2>")
            .Append("<p>The service logs every card it answers a hook call with, and the feedback EHRs send about them. Nothing was issued or reported ")
            .Append(view.Service is null ? "" : "by this service ").Append("between these dates.</p><ul>")
            .Append("<li>Choose a longer period or all services above.</li>")
            .Append("<li>A new installation has no history yet: cards appear here once EHRs call the services.</li>")
            .Append("<li>To look around first, fill an empty store with synthetic history: <code>dotnet run --project src/CdsHooks.Api -- demo-data</code>.</li></ul></section>");
    }

    private static void Table(StringBuilder html, DashboardView view, CardReport report)
    {
        html.Append("<section aria-labelledby=\"kinds-heading\"><div class=\"section-head\"><h2 id=\"kinds-heading\">Per card kind</h2>")
            .Append("<a class=\"button\" id=\"csv-export\" href=\"/dashboard/api/cards.csv?").Append(Encode(view.Query)).Append("\" download>Download CSV</a></div>")
            .Append("<table id=\"card-kinds\"><caption>Cards issued, accepted and overridden per card kind; acceptance rate = accepted / (accepted + overridden), as EHRs do not report ignored cards.</caption>")
            .Append("<thead><tr><th scope=\"col\">Card kind</th><th scope=\"col\">Issued</th><th scope=\"col\">Accepted</th><th scope=\"col\">Overridden</th><th scope=\"col\">Acceptance rate</th>")
            .Append("<th scope=\"col\">Lock-outs applied</th></tr></thead><tbody>");
        foreach (var k in report.CardKinds)
        {
            html.Append("<tr data-kind=\"").Append(Encode(k.CardKind)).Append("\"><th scope=\"row\"><a href=\"#").Append(SectionId(k.CardKind)).Append("\">").Append(Encode(k.CardKind)).Append("</a></th>");
            Cell(html, "issued", k.Issued);
            Cell(html, "accepted", k.Accepted);
            Cell(html, "overridden", k.Overridden);
            html.Append("<td data-field=\"acceptanceRate\"");
            if (k.AcceptanceRate is { } r) html.Append(" data-value=\"").Append(r.ToString("0.####", CultureInfo.InvariantCulture)).Append("\">").Append(Percent(r));
            else html.Append(" title=\"No feedback in this period\">—<span class=\"visually-hidden\"> no feedback</span>");
            html.Append("</td>");
            if (k.LockOuts is { } l) Cell(html, "lockOuts", l);
            else html.Append("<td data-field=\"lockOuts\" title=\"Not recorded by this store\">—<span class=\"visually-hidden\"> not recorded</span></td>");
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        if (!report.LockOutsRecorded) html.Append("<p class=\"note\" id=\"lockouts-note\">Lock-outs: not recorded by this store (—).</p>");
        html.Append("</section>");
    }

    private static void Cell(StringBuilder html, string field, long value) =>
        html.Append(CultureInfo.InvariantCulture, $"<td data-field=\"{field}\" data-value=\"{value}\">{N(value)}</td>");

    private static void KindSection(StringBuilder html, CardKindReport kind)
    {
        var id = SectionId(kind.CardKind);
        html.Append("<section class=\"kind\" id=\"").Append(id).Append("\" data-kind=\"").Append(Encode(kind.CardKind)).Append("\" aria-labelledby=\"").Append(id).Append("-heading\">")
            .Append("<h2 id=\"").Append(id).Append("-heading\">").Append(Encode(kind.CardKind)).Append("</h2><div class=\"charts\">");

        // Weekly trend.
        Figure(html, id + "-trend", "trend", "Weekly: cards issued (bars, left axis) and acceptance rate (line, right axis)", () => Trend(html, id + "-trend-svg", kind), () =>
        {
            html.Append("<thead><tr><th scope=\"col\">Week of</th><th scope=\"col\">Issued</th><th scope=\"col\">Accepted</th><th scope=\"col\">Overridden</th><th scope=\"col\">Acceptance rate</th></tr></thead><tbody>");
            foreach (var w in kind.Weekly)
            {
                html.Append("<tr><th scope=\"row\">").Append(Day(w.Week)).Append("</th><td>").Append(N(w.Issued)).Append("</td><td>").Append(N(w.Accepted)).Append("</td><td>")
                    .Append(N(w.Overridden)).Append("</td><td>").Append(w.AcceptanceRate is { } r ? Percent(r) : "—").Append("</td></tr>");
            }
            html.Append("</tbody>");
        }, legend: true);

        // Override reasons.
        var reasons = kind.OverrideReasons.Select(r => (Label: r.Display ?? r.Code, r.Count)).ToList();
        if (reasons.Count == 0)
        {
            html.Append("<figure class=\"chart\" data-chart=\"reasons\"><figcaption>Override reasons</figcaption><p class=\"none\">No override with a reason in this period.</p></figure>");
        }
        else
        {
            var desc = "Overridden cards per reason: " + string.Join("; ", reasons.Select(r => $"{r.Label} {N(r.Count)}")) + ".";
            Figure(html, id + "-reasons", "reasons", "Override reasons (overridden cards per reason)",
                () => Bars(html, id + "-reasons-svg", "override-reasons", ReasonColour, $"Override reasons of {kind.CardKind}", desc, reasons),
                () => DataRows(html, "Reason", "Cards", kind.OverrideReasons.Select(r => (r.Display is null ? r.Code : $"{r.Display} ({r.Code})", r.Count))));
        }

        // Suggestions accepted.
        var suggestions = kind.SuggestionsAccepted.Select(s => (Label: SuggestionLabel(s.Key), Value: s.Accepted)).ToList();
        if (suggestions.Count == 0)
        {
            html.Append("<figure class=\"chart\" data-chart=\"suggestions\"><figcaption>Suggestions accepted</figcaption><p class=\"none\">No suggestion accepted in this period.</p></figure>");
        }
        else
        {
            var desc = "Cards on which each suggestion was accepted: " + string.Join("; ", suggestions.Select(s => $"{s.Label} {N(s.Value)}")) + ".";
            Figure(html, id + "-suggestions", "suggestions", "Suggestions accepted (cards per suggestion)",
                () => Bars(html, id + "-suggestions-svg", "suggestions-accepted", SuggestionColour, $"Suggestions accepted on {kind.CardKind}", desc, suggestions),
                () => DataRows(html, "Suggestion", "Cards", suggestions));
        }
        html.Append("</div></section>");
    }

    /// <summary>A chart with its caption and, for keyboard and screen-reader users, its numbers in a disclosure table.</summary>
    private static void Figure(StringBuilder html, string id, string chart, string caption, Action drawChart, Action dataTable, bool legend = false)
    {
        html.Append("<figure class=\"chart\" id=\"").Append(id).Append("\" data-chart=\"").Append(chart).Append("\" aria-labelledby=\"").Append(id).Append("-caption\">")
            .Append("<figcaption id=\"").Append(id).Append("-caption\">").Append(Encode(caption)).Append("</figcaption>");
        if (legend)
        {
            html.Append("<p class=\"legend\" aria-hidden=\"true\"><span class=\"swatch issued\"></span>issued <span class=\"swatch rate\"></span>acceptance rate</p>");
        }
        drawChart();
        html.Append("<details><summary>Data table</summary><table>");
        dataTable();
        html.Append("</table></details></figure>");
    }

    private static void DataRows(StringBuilder html, string labelHeader, string valueHeader, IEnumerable<(string Label, long Value)> rows)
    {
        html.Append("<thead><tr><th scope=\"col\">").Append(labelHeader).Append("</th><th scope=\"col\">").Append(valueHeader).Append("</th></tr></thead><tbody>");
        foreach (var (label, value) in rows) html.Append("<tr><th scope=\"row\">").Append(Encode(label)).Append("</th><td>").Append(N(value)).Append("</td></tr>");
        html.Append("</tbody>");
    }

    private static string SuggestionLabel(string key) => key switch
    {
        "unknown" => "unknown (not one of the card's suggestions)",
        _ when key.StartsWith('#') => "suggestion " + key + " (no key recorded)",
        _ => key,
    };

    /// <summary>Card kinds are topic codes; anything outside [a-z0-9-] is replaced so the id is always a valid fragment.</summary>
    internal static string SectionId(string kind)
    {
        var chars = kind.ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' ? c : '_').ToArray();
        return "kind-" + new string(chars);
    }
}
