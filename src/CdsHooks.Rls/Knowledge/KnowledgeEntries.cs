using CdsHooks.Fhir;

namespace CdsHooks.Rls.Knowledge;

/// <summary>A drug the knowledge file knows, by ingredient; <see cref="RlsEvidenceUnless"/> as in <see cref="DrugEntry"/>.</summary>
public sealed record KnownDrug(string Ingredient, DrugClass Class, string SourceKey, IReadOnlySet<ConditionKind>? RlsEvidenceUnless = null)
{
    /// <summary>True for a drug that marks RLS when no RLS diagnosis is recorded (and no competing indication is).</summary>
    public bool IsRlsEvidence => RlsEvidenceUnless is not null;
}

/// <summary>The guideline behind a card: label and link for <c>card.source</c>.</summary>
public sealed record Guideline(string Key, string Citation, string ShortCitation, string? Url);

/// <summary>
/// A condition code the knowledge file recognises, and what the code itself says about a pregnancy: the trimester
/// (Z34.x1, O09.x2) or the weeks of gestation (Z3A.08 is [8, 9), Z3A.01 "less than 8 weeks" [0, 8), Z3A.49 "greater
/// than 42 weeks" [42, open)), as of when it was recorded.
/// </summary>
public readonly record struct ConditionMatch(ConditionKind Kind, int? Trimester = null, decimal? WeeksLow = null, decimal? WeeksHigh = null);

/// <summary>A lab order a card suggests: one ServiceRequest per code.</summary>
public sealed record LabOrder(string Key, string Label, IReadOnlyList<Coding> Codes, string? PatientInstruction, string? Note, string SourceKey);

public enum Route
{
    Oral,
    Iv,
}

/// <summary>A medication a card suggests (a draft MedicationRequest), from the knowledge file's <c>products</c>.</summary>
public sealed record Product(
    string Key,
    string Ingredient,
    Route Route,
    string Label,
    string ShortName,
    Coding? Rxnorm,
    string Text,
    string Dosage,
    string Recommendation,
    decimal? MinAgeYears,
    decimal? MaxAgeYears,
    string SourceKey)
{
    public bool IsFerricCarboxymaltose => string.Equals(Ingredient, "ferric carboxymaltose", StringComparison.OrdinalIgnoreCase);
}

/// <summary>What a contraindication rules out.</summary>
[Flags]
public enum IronForm
{
    None = 0,
    Oral = 1,
    Iv = 2,
    FerricCarboxymaltose = 4,
    Any = Oral | Iv | FerricCarboxymaltose,
}

/// <summary><see cref="Text"/> names the patient's detail (<c>{detail}</c>); <see cref="Summary"/> is the short form a card summary uses.</summary>
public sealed record Contraindication(string Id, IronForm Excludes, bool Critical, bool CautionOnDraft, string Text, string Summary, string SourceKey)
{
    /// <summary>True when this rules out <paramref name="product"/>.</summary>
    public bool Rules(Product product) =>
        (Excludes & (product.Route == Route.Oral ? IronForm.Oral : IronForm.Iv)) != 0
        || (product.IsFerricCarboxymaltose && (Excludes & IronForm.FerricCarboxymaltose) != 0);

    /// <summary>True when this rules out an iron drug of <paramref name="cls"/> named <paramref name="ingredient"/>.</summary>
    public bool Rules(DrugClass cls, string ingredient) =>
        (cls == DrugClass.OralIron && (Excludes & IronForm.Oral) != 0)
        || (cls == DrugClass.IvIron && (Excludes & IronForm.Iv) != 0)
        || (cls == DrugClass.IvIron && (Excludes & IronForm.FerricCarboxymaltose) != 0
            && string.Equals(ingredient, "ferric carboxymaltose", StringComparison.OrdinalIgnoreCase));
}

/// <summary>The ids of the contraindications the rules apply; each must be defined in the knowledge file.</summary>
public static class ContraindicationIds
{
    public const string IronOverload = "iron-overload";
    public const string FerritinHardStop = "ferritin-hard-stop";
    public const string FirstTrimester = "pregnancy-first-trimester";
    public const string TrimesterUnknown = "pregnancy-trimester-unknown";
    public const string LaterPregnancy = "pregnancy-second-or-third-trimester";
    public const string SeriousIvIronHypersensitivity = "iv-iron-hypersensitivity-serious";
    public const string IvIronHypersensitivity = "iv-iron-hypersensitivity";
    public const string OralIronHypersensitivity = "oral-iron-hypersensitivity";
    public const string Hypophosphatemia = "hypophosphatemia";
    public const string PhosphateNotMeasured = "phosphate-not-measured";
    public const string RecentIvIron = "recent-iv-iron";
    public const string Dialysis = "dialysis-ferric-carboxymaltose";
    public const string OralIronInProgress = "oral-iron-in-progress";
    public const string IvIronInProgress = "iv-iron-in-progress";
    public const string AgeUnknown = "age-unknown";
    public const string Child = "child-adult-dose";
    public const string AdultPediatricForm = "adult-pediatric-form";

    public static IReadOnlyList<string> All { get; } =
    [
        IronOverload, FerritinHardStop, FirstTrimester, TrimesterUnknown, LaterPregnancy, SeriousIvIronHypersensitivity,
        IvIronHypersensitivity, OralIronHypersensitivity, Hypophosphatemia, PhosphateNotMeasured, RecentIvIron, Dialysis,
        OralIronInProgress, IvIronInProgress, AgeUnknown, Child, AdultPediatricForm,
    ];
}

/// <summary>The keys of the products and lab orders the cards suggest; each must be defined in the knowledge file.</summary>
public static class SuggestionKeys
{
    public const string FerricCarboxymaltose = "ferric-carboxymaltose-iv";
    public const string FerrousSulfate = "ferrous-sulfate-oral";
    public const string FerrousSulfatePediatric = "ferrous-sulfate-oral-pediatric";
    public const string IronStudies = "iron-studies";
    public const string Ferritin = "ferritin";
    public const string IronPanel = "iron-panel";
    public const string Phosphate = "phosphate";

    public static IReadOnlyList<string> Products { get; } = [FerricCarboxymaltose, FerrousSulfate, FerrousSulfatePediatric];

    public static IReadOnlyList<string> LabOrders { get; } = [IronStudies, Ferritin, IronPanel, Phosphate];
}

/// <summary>The wording, guideline, override reasons and explanation page of one card kind.</summary>
public sealed record CardText(
    CardKind Kind,
    string Display,
    Guideline Guideline,
    IReadOnlyDictionary<string, string> Templates,
    IReadOnlyList<Coding> OverrideReasons,
    string ExplainTitle,
    IReadOnlyList<(string Text, Guideline? Source)> ExplainParagraphs)
{
    public string this[string name] => Templates[name];
}

/// <summary>Fills <c>{placeholder}</c>s of a knowledge-file template (every name was checked at start-up).</summary>
public static class Template
{
    public static string Fill(string template, params (string Name, string Value)[] values)
    {
        if (template.IndexOf('{') < 0) return template;
        var sb = new System.Text.StringBuilder(template.Length + 32);
        int i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            if (open < 0)
            {
                sb.Append(template, i, template.Length - i);
                break;
            }
            sb.Append(template, i, open - i);
            var close = template.IndexOf('}', open + 1);
            var name = template.AsSpan(open + 1, close - open - 1);
            var found = false;
            foreach (var (n, v) in values)
            {
                if (!name.SequenceEqual(n)) continue;
                sb.Append(v);
                found = true;
                break;
            }
            if (!found) throw new InvalidOperationException($"No value for {{{name}}} in '{template}'.");
            i = close + 1;
        }
        return sb.ToString();
    }
}
