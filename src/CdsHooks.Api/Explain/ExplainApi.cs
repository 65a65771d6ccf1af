using System.Text;
using System.Text.Encodings.Web;
using CdsHooks.Api.Security;
using CdsHooks.Rls.Knowledge;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Explain;

/// <summary>
/// Where cards link for their rationale: this service's base URL (<c>Security:PublicBaseUrl</c> behind a proxy, else
/// the request's scheme and host) followed by <c>/explain/{card-kind}</c>.
/// </summary>
public sealed class ExplainLinks(IOptions<CdsClientSecurityOptions> options)
{
    private readonly string? _publicBaseUrl = options.Value.PublicBaseUrl is { Length: > 0 } url ? url.TrimEnd('/') : null;

    public string BaseUrl(HttpRequest request) => _publicBaseUrl ?? $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}";
}

/// <summary>
/// <c>GET /explain/{card-kind}</c>: a plain page per card kind with the rationale the card only summarises, each
/// paragraph with its source and status, all from the knowledge file. Public (it holds no patient data, and a
/// clinician's browser follows the card's link without the EHR's JWT); no script, no style, no external asset.
/// </summary>
public static class ExplainApi
{
    public static RouteGroupBuilder MapExplain(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/explain").WithTags("Explanation pages");
        group.MapGet("/", Index).WithName("ExplainIndex").WithSummary("Lists the card kinds with an explanation page.")
            .Produces<string>(StatusCodes.Status200OK, "text/html");
        group.MapGet("/{kind}", Page).WithName("ExplainCardKind").WithSummary("Explains one card kind: why, with sources.")
            .Produces<string>(StatusCodes.Status200OK, "text/html").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static IResult Index(RlsKnowledge knowledge)
    {
        var html = Start("RLS Iron CDS: card explanations");
        html.Append("<h1>RLS Iron CDS: why each card</h1>\n<ul>\n");
        foreach (var card in knowledge.Cards.Values.OrderBy(c => c.Kind))
        {
            html.Append("<li><a href=\"").Append(Encode(card.Kind.Code())).Append("\">").Append(Encode(card.Display)).Append("</a></li>\n");
        }
        html.Append("</ul>\n");
        return End(html, knowledge);
    }

    public static IResult Page(string kind, RlsKnowledge knowledge)
    {
        if (CardKinds.FromCode(kind) is not { } k || !knowledge.Cards.TryGetValue(k, out var card))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown card kind",
                detail: $"No explanation page for '{kind}'. Card kinds: {string.Join(", ", knowledge.Cards.Keys.Select(c => c.Code()))}.");
        }
        var html = Start(card.ExplainTitle);
        html.Append("<h1>").Append(Encode(card.ExplainTitle)).Append("</h1>\n");
        html.Append("<p><small>Card kind <code>").Append(Encode(k.Code())).Append("</code>: ").Append(Encode(card.Display)).Append("</small></p>\n");
        var cited = new List<Guideline>();
        foreach (var (text, source) in card.ExplainParagraphs)
        {
            html.Append("<p>").Append(Encode(text));
            if (source is not null)
            {
                if (!cited.Exists(c => c.Key == source.Key)) cited.Add(source);
                html.Append(" <sup>[").Append(cited.FindIndex(c => c.Key == source.Key) + 1).Append("]</sup>");
            }
            html.Append("</p>\n");
        }
        if (!cited.Exists(c => c.Key == card.Guideline.Key)) cited.Add(card.Guideline);
        html.Append("<h2>Sources</h2>\n<ol>\n");
        foreach (var source in cited)
        {
            html.Append("<li>").Append(Encode(source.Citation));
            if (source.Url is { } url) html.Append(" <a href=\"").Append(Encode(url)).Append("\">").Append(Encode(url)).Append("</a>");
            if (knowledge.Sources.TryGetValue(source.Key, out var s) && s.Status is { } status) html.Append(" <em>(").Append(Encode(status)).Append(")</em>");
            html.Append("</li>\n");
        }
        html.Append("</ol>\n<p><a href=\"./\">All card kinds</a></p>\n");
        return End(html, knowledge);
    }

    private static StringBuilder Start(string title) => new StringBuilder(4096)
        .Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
        .Append(Encode(title)).Append("</title>\n</head>\n<body>\n<main>\n");

    private static IResult End(StringBuilder html, RlsKnowledge knowledge)
    {
        html.Append("<footer><p><small>From the service's clinical knowledge file, version ").Append(Encode(knowledge.Version))
            .Append(". Decision support only: it does not replace clinical judgement.</small></p></footer>\n</main>\n</body>\n</html>\n");
        return TypedResults.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);
}
