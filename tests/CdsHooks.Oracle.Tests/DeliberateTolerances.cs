using System.Text.RegularExpressions;
using Hl7.Fhir.Utility;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// Where real clients send what strict FHIR R4 refuses and the service reads it anyway, on purpose. Each entry names
/// Firely's issue code, where in which request resource it may occur, and why the service tolerates it; the
/// differential tests fail on a strict refusal not listed here, and on an entry that no input needs any more.
/// </summary>
public static partial class DeliberateTolerances
{
    public sealed record Tolerance(string FirelyIssue, string Resource, Regex At, string Why, Regex? Message = null)
    {
        public bool Covers(string resourcePath, CodedException issue) =>
            issue.ErrorCode == FirelyIssue && resourcePath.StartsWith(Resource, StringComparison.Ordinal) && At.IsMatch(IssuePath(issue))
            && (Message is null || Message.IsMatch(issue.Message));

        public override string ToString() => $"{FirelyIssue} in {Resource} at /{At}/";
    }

    public static readonly IReadOnlyList<Tolerance> All =
    [
        new("PVAL127", "", AnyPath(),
            "A single object where FHIR has an array (the HL7 hook examples' doseAndRate, the CDS Hooks Sandbox's category): " +
            "read as a one-item list (FhirReader.ReadList)."),
        new("PVAL128", "", AnyPath(),
            "An element FHIR R4 does not have (the HL7 examples put doseQuantity straight into Dosage, as older FHIR did): " +
            "skipped, like every element the service does not read; only modifierExtension would change the meaning, and it is not used."),
        new("PVAL105", "context.draftOrders", BundleType(),
            "A draftOrders Bundle without type (the CDS Hooks Sandbox): read as a Bundle whatever it says."),
        new("PVAL105", "context.draftOrders", DraftIntent(),
            "A draft order without intent (the HL7 examples' NutritionOrder): the rules read neither intent nor NutritionOrders."),
        new("PVAL130", "context.draftOrders", DraftResource(),
            "A DSTU2/STU3 MedicationOrder among the drafts (the CDS Hooks Sandbox on its default DSTU2 server): FHIR R4 has no such " +
            "resource, so Firely's R4 model cannot be the oracle for it; the service reads it as a MedicationRequest " +
            "(Dstu2DraftOrderTests in the Api tests cover what it reads).", MedicationOrderType()),
    ];

    /// <summary>The tolerance that covers <paramref name="issue"/> of the resource at <paramref name="resourcePath"/>, or null.</summary>
    public static Tolerance? For(string resourcePath, CodedException issue) => All.FirstOrDefault(t => t.Covers(resourcePath, issue));

    /// <summary>The element path Firely names in its message ("… At Bundle.entry[0].resource.intent, line 1, …").</summary>
    public static string IssuePath(CodedException issue) => IssueLocation().Match(issue.Message) is { Success: true } m ? m.Groups["path"].Value : "";

    [GeneratedRegex(@" At (?<path>[^,]+), line ")]
    private static partial Regex IssueLocation();

    [GeneratedRegex(".*")]
    private static partial Regex AnyPath();

    [GeneratedRegex(@"^\$this\.type$")]
    private static partial Regex BundleType();

    [GeneratedRegex(@"^Bundle\.entry\[\d+\]\.resource\.intent$")]
    private static partial Regex DraftIntent();

    [GeneratedRegex(@"^Bundle\.entry\[\d+\]\.resource$")]
    private static partial Regex DraftResource();

    [GeneratedRegex(@"unknown resource type 'MedicationOrder'")]
    private static partial Regex MedicationOrderType();
}
