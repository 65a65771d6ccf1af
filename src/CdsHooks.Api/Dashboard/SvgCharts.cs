using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using CdsHooks.Storage;

namespace CdsHooks.Api.Dashboard;

/// <summary>
/// Server-rendered SVG charts: no script and no chart library, so the page works offline and under a CSP without
/// <c>script-src</c>. Every mark has a <c>&lt;title&gt;</c> (a tooltip and an accessible name); every chart has a
/// <c>&lt;title&gt;</c>/<c>&lt;desc&gt;</c> summary, and the page puts its numbers in a table beside it. Colours come
/// from presentation attributes, not inline styles (the CSP allows no inline style).
/// </summary>
internal static class SvgCharts
{
    public const string IssuedColour = "#3569a8";
    public const string RateColour = "#c2410c";
    public const string ReasonColour = "#8a5a00";
    public const string SuggestionColour = "#2f7d32";

    private const int Width = 560;
    private const int TrendHeight = 200;
    private const int Left = 44, Right = 48, Top = 12, Bottom = 30;

    /// <summary>Bars: cards issued per week (left axis). Line and dots: acceptance rate per week (right axis, 0–100 %), broken where a week had no feedback.</summary>
    public static void Trend(StringBuilder html, string id, CardKindReport kind)
    {
        var weeks = kind.Weekly;
        var maxIssued = Math.Max(1, weeks.Count == 0 ? 1 : weeks.Max(w => w.Issued));
        var yMax = NiceCeiling(maxIssued);
        double plotW = Width - Left - Right, plotH = TrendHeight - Top - Bottom;
        var slot = plotW / Math.Max(1, weeks.Count);
        double X(int i) => Left + (i + 0.5) * slot;
        double YCount(double v) => Top + plotH - v / yMax * plotH;
        double YRate(double r) => Top + plotH - r * plotH;

        var rates = weeks.Where(w => w.AcceptanceRate is not null).Select(w => w.AcceptanceRate!.Value).ToList();
        var desc = $"{weeks.Count} weeks from {Day(weeks.FirstOrDefault()?.Week)}. Cards issued per week: {weeks.Min(w => (long?)w.Issued) ?? 0} to {maxIssued}, {kind.Issued} in all. "
            + (rates.Count == 0 ? "No feedback, so no acceptance rate." : $"Weekly acceptance rate {Percent(rates.Min())} to {Percent(rates.Max())} over {rates.Count} weeks with feedback.");
        Open(html, id, TrendHeight, $"Weekly trend of {kind.CardKind}", desc);

        // Axes and grid: left counts, right rate, a few week labels.
        Line(html, Left, Top + plotH, Width - Right, Top + plotH, "#888");
        foreach (var f in new[] { 0.0, 0.5, 1.0 })
        {
            var y = Top + plotH - f * plotH;
            if (f > 0) Line(html, Left, y, Width - Right, y, "#e3e3e3");
            Text(html, Left - 6, y + 4, "end", N((long)Math.Round(f * yMax)));
            Text(html, Width - Right + 6, y + 4, "start", Percent(f));
        }
        Text(html, 12, Top + plotH / 2, "middle", "issued", rotate: true);
        foreach (var i in LabelledWeeks(weeks.Count)) Text(html, X(i), TrendHeight - 10, "middle", weeks[i].Week.ToString("MMM d", CultureInfo.InvariantCulture));

        html.Append("<g data-series=\"issued\" fill=\"").Append(IssuedColour).Append("\">");
        for (var i = 0; i < weeks.Count; i++)
        {
            var w = weeks[i];
            var y = YCount(w.Issued);
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(X(i) - slot * 0.35)}\" y=\"{F(y)}\" width=\"{F(slot * 0.7)}\" height=\"{F(Top + plotH - y)}\" data-week=\"{Day(w.Week)}\" data-value=\"{w.Issued}\">");
            html.Append("<title>Week of ").Append(Day(w.Week)).Append(": ").Append(N(w.Issued)).Append(" issued</title></rect>");
        }
        html.Append("</g>");

        html.Append("<g data-series=\"acceptance-rate\" fill=\"").Append(RateColour).Append("\">");
        var path = new StringBuilder();
        var penDown = false;
        for (var i = 0; i < weeks.Count; i++)
        {
            if (weeks[i].AcceptanceRate is not { } r) { penDown = false; continue; }
            path.Append(penDown ? " L" : " M").Append(F(X(i))).Append(' ').Append(F(YRate(r)));
            penDown = true;
        }
        if (path.Length > 0) html.Append("<path fill=\"none\" stroke=\"").Append(RateColour).Append("\" stroke-width=\"2\" d=\"").Append(path.ToString().Trim()).Append("\"/>");
        for (var i = 0; i < weeks.Count; i++)
        {
            var w = weeks[i];
            if (w.AcceptanceRate is not { } r) continue;
            html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(X(i))}\" cy=\"{F(YRate(r))}\" r=\"3\" data-week=\"{Day(w.Week)}\" data-value=\"{r.ToString("0.####", CultureInfo.InvariantCulture)}\">");
            html.Append("<title>Week of ").Append(Day(w.Week)).Append(": ").Append(Percent(r)).Append(" accepted (")
                .Append(N(w.Accepted)).Append(" accepted, ").Append(N(w.Overridden)).Append(" overridden)</title></circle>");
        }
        html.Append("</g></svg>");
    }

    /// <summary>Horizontal bars, one per item, longest first (as given).</summary>
    public static void Bars(StringBuilder html, string id, string series, string colour, string title, string desc, IReadOnlyList<(string Label, long Value)> items)
    {
        const int row = 26, labelWidth = 290, valueWidth = 56;
        var height = Top + items.Count * row + 8;
        var max = Math.Max(1, items.Count == 0 ? 1 : items.Max(i => i.Value));
        double barSpace = Width - labelWidth - valueWidth - 12;
        Open(html, id, height, title, desc);
        html.Append("<g data-series=\"").Append(Encode(series)).Append("\" fill=\"").Append(colour).Append("\">");
        for (var i = 0; i < items.Count; i++)
        {
            var (label, value) = items[i];
            var y = Top + i * row;
            var w = Math.Max(1, value / (double)max * barSpace);
            Text(html, labelWidth - 8, y + 16, "end", Shorten(label, 46));
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{labelWidth}\" y=\"{y + 4}\" width=\"{F(w)}\" height=\"{row - 8}\" data-label=\"{Encode(label)}\" data-value=\"{value}\">");
            html.Append("<title>").Append(Encode(label)).Append(": ").Append(N(value)).Append("</title></rect>");
            Text(html, labelWidth + w + 6, y + 16, "start", N(value));
        }
        html.Append("</g></svg>");
    }

    private static void Open(StringBuilder html, string id, int height, string title, string desc)
    {
        html.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {height}\" width=\"{Width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" font-size=\"11\">");
        html.Append("<title id=\"").Append(id).Append("-title\">").Append(Encode(title)).Append("</title>");
        html.Append("<desc id=\"").Append(id).Append("-desc\">").Append(Encode(desc)).Append("</desc>");
    }

    /// <summary>At most about six week labels, always the first and the last, never two crowding each other.</summary>
    private static IEnumerable<int> LabelledWeeks(int count)
    {
        if (count == 0) yield break;
        var step = Math.Max(1, (int)Math.Ceiling(count / 6.0));
        for (var i = 0; i < count - 1; i += step)
        {
            if (i == 0 || count - 1 - i >= Math.Max(2, step * 0.6)) yield return i;
        }
        yield return count - 1;
    }

    private static void Line(StringBuilder html, double x1, double y1, double x2, double y2, string colour) =>
        html.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x1)}\" y1=\"{F(y1)}\" x2=\"{F(x2)}\" y2=\"{F(y2)}\" stroke=\"{colour}\"/>");

    private static void Text(StringBuilder html, double x, double y, string anchor, string text, bool rotate = false)
    {
        html.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x)}\" y=\"{F(y)}\" text-anchor=\"{anchor}\" fill=\"#333\"");
        if (rotate) html.Append(CultureInfo.InvariantCulture, $" transform=\"rotate(-90 {F(x)} {F(y)})\"");
        html.Append(" aria-hidden=\"true\">").Append(Encode(text)).Append("</text>");
    }

    private static long NiceCeiling(long value)
    {
        var magnitude = (long)Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var m in new long[] { 1, 2, 5, 10 }) if (m * magnitude >= value) return m * magnitude;
        return 10 * magnitude;
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    internal static string Encode(string s) => HtmlEncoder.Default.Encode(s);

    internal static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    internal static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    internal static string Percent(double rate) => (rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    internal static string Day(DateOnly? day) => day?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";
}
