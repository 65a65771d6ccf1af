using System.Text.Json.Serialization;

namespace CdsHooks.Rls.Knowledge;

// The shape of rls-knowledge.json. Every entry names a source key; RlsKnowledge checks that it exists, and that
// every entry the rules and cards need is present, at start-up.

public sealed class KnowledgeDocument
{
    public string? Version { get; set; }
    public Dictionary<string, KnowledgeSource>? Sources { get; set; }
    public Dictionary<string, ThresholdEntry>? Thresholds { get; set; }
    public List<string>? AcceptedObservationStatuses { get; set; }
    public string? PreliminaryStatus { get; set; }
    public List<LabEntry>? Labs { get; set; }
    public List<PanelEntry>? Panels { get; set; }
    public List<UnitEntry>? Units { get; set; }
    public PregnancyObservationsEntry? PregnancyObservations { get; set; }
    public List<ConditionCodeEntry>? Conditions { get; set; }
    public List<ConditionPrefixEntry>? ConditionPrefixes { get; set; }
    public List<ConditionNamesEntry>? ConditionNames { get; set; }
    public List<DrugClassEntry>? DrugClasses { get; set; }
    public List<AtcPrefixEntry>? AtcPrefixes { get; set; }
    public List<DrugEntry>? Drugs { get; set; }
    public List<ProductCodeEntry>? ProductCodes { get; set; }
    public AllergyNamesEntry? AllergyNames { get; set; }
    public Dictionary<string, LabOrderEntry>? LabOrders { get; set; }
    public Dictionary<string, ProductEntry>? Products { get; set; }
    public Dictionary<string, ContraindicationEntry>? Contraindications { get; set; }
    public Dictionary<string, DataAreaEntry>? DataAreas { get; set; }
    public Dictionary<string, List<TextEntry>>? SaferAlternatives { get; set; }
    public Dictionary<string, CardEntry>? Cards { get; set; }
}

public sealed class KnowledgeSource
{
    public string? Citation { get; set; }
    public string? ShortCitation { get; set; }
    public string? Url { get; set; }
    public string? Status { get; set; }
}

public sealed class ThresholdEntry
{
    public decimal? Value { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
    public string? Note { get; set; }
}

public sealed class LabEntry
{
    public string? Analyte { get; set; }
    public string? Loinc { get; set; }
    public string? Display { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

/// <summary>A lab panel ordered as one code whose results give these analytes (an iron/TIBC panel gives TSAT).</summary>
public sealed class PanelEntry
{
    public string? Loinc { get; set; }
    public string? Display { get; set; }
    public List<string>? Covers { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class CodeEntry
{
    public string? System { get; set; }
    public string? Code { get; set; }
    public string? Display { get; set; }
    public string? Status { get; set; }
}

public sealed class UnitEntry
{
    public string? Analyte { get; set; }
    public string? Canonical { get; set; }
    public Dictionary<string, decimal>? Accepts { get; set; }
    public string? Source { get; set; }
}

/// <summary>Pregnancy status, gestational age and estimated delivery date Observations (LOINC) and their answers.</summary>
public sealed class PregnancyObservationsEntry
{
    public List<string>? StatusLoinc { get; set; }
    /// <summary>LOINC answer code -> "pregnant" | "not-pregnant" | "unknown".</summary>
    public Dictionary<string, string>? StatusAnswers { get; set; }
    public List<string>? GestationalAgeLoinc { get; set; }
    /// <summary>Unit (UCUM code or text) -> factor to weeks.</summary>
    public Dictionary<string, decimal>? GestationalAgeUnits { get; set; }
    public List<string>? DeliveryDateLoinc { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class ConditionCodeEntry
{
    public string? Kind { get; set; }
    public string? System { get; set; }
    public string? Code { get; set; }
    public string? Display { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

/// <summary>A family of codes by prefix (ICD-10-CM "E83.11", "Z3A."), with exceptions and an optional trimester digit.</summary>
public sealed class ConditionPrefixEntry
{
    public string? Kind { get; set; }
    public string? System { get; set; }
    public string? Prefix { get; set; }
    public List<string>? Except { get; set; }
    /// <summary>The code's last character gives the trimester (1, 2, 3; 0 = unspecified), as in ICD-10-CM Z34.x1 / O09.x2.</summary>
    public bool TrimesterInLastDigit { get; set; }
    /// <summary>The code gives the weeks of gestation (ICD-10-CM Z3A.08 - Z3A.42).</summary>
    public bool WeeksOfGestation { get; set; }
    public string? Display { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class ConditionNamesEntry
{
    public string? Kind { get; set; }
    public List<string>? Names { get; set; }
    public string? Source { get; set; }
}

public sealed class DrugClassEntry
{
    public string? Class { get; set; }
    public string? Card { get; set; }
    public string? Display { get; set; }
    /// <summary>The safer-alternatives list shown on this class's caution card.</summary>
    public string? Alternatives { get; set; }
    public string? Source { get; set; }
}

public sealed class AtcPrefixEntry
{
    public string? Prefix { get; set; }
    public string? Class { get; set; }
    public List<string>? Except { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class DrugEntry
{
    public string? Ingredient { get; set; }
    public string? Class { get; set; }
    public List<string>? Rxnorm { get; set; }
    public List<string>? Atc { get; set; }
    public List<string>? Names { get; set; }
    /// <summary>
    /// Set for drugs whose use is evidence of RLS when no RLS diagnosis is recorded: the condition kinds that are
    /// another likely indication and, when recorded, make the drug no RLS evidence (Parkinson disease for a
    /// dopamine agonist). Absent: the drug is never RLS evidence.
    /// </summary>
    public List<string>? RlsEvidenceUnless { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class ProductCodeEntry
{
    public string? System { get; set; }
    public string? Code { get; set; }
    public string? Ingredient { get; set; }
    public string? Display { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

/// <summary>Words in an allergy entry that name iron in general, or IV iron, beyond the iron drugs' own names.</summary>
public sealed class AllergyNamesEntry
{
    public List<string>? AnyIron { get; set; }
    public List<string>? IvIron { get; set; }
    /// <summary>Reaction manifestation words that make an allergy serious (anaphylaxis).</summary>
    public List<string>? Serious { get; set; }
    public string? Source { get; set; }
}

/// <summary>A lab order a card can suggest (a ServiceRequest per code).</summary>
public sealed class LabOrderEntry
{
    public string? Label { get; set; }
    public List<CodeEntry>? Codes { get; set; }
    public string? PatientInstruction { get; set; }
    public string? Note { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

/// <summary>A medication a card can suggest: the draft MedicationRequest's code, text, dose and who it is for.</summary>
public sealed class ProductEntry
{
    public string? Ingredient { get; set; }
    /// <summary>"oral" | "iv"</summary>
    public string? Route { get; set; }
    public string? Label { get; set; }
    public string? ShortName { get; set; }
    public CodeEntry? Rxnorm { get; set; }
    public string? Text { get; set; }
    public string? Dosage { get; set; }
    public string? Recommendation { get; set; }
    public decimal? MinAgeYears { get; set; }
    public decimal? MaxAgeYears { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

/// <summary>A reason not to give iron (or a form of it), what it rules out, how serious it is, and its wording.</summary>
public sealed class ContraindicationEntry
{
    /// <summary>"any-iron" | "oral-iron" | "iv-iron" | "ferric-carboxymaltose"</summary>
    public List<string>? Excludes { get; set; }
    /// <summary>"critical" | "warning": the indicator of the caution on a draft order that meets it.</summary>
    public string? Severity { get; set; }
    /// <summary>False for a reason not to suggest an order that does not make a draft order wrong (no recent phosphate).</summary>
    public bool? CautionOnDraft { get; set; }
    public string? Text { get; set; }
    /// <summary>The reason in a few words, for a card's summary (no placeholder).</summary>
    public string? Summary { get; set; }
    public string? Source { get; set; }
    public string? Status { get; set; }
}

public sealed class DataAreaEntry
{
    /// <summary>What the area is, as a card names it: "the allergy list".</summary>
    public string? Name { get; set; }
    public string? Source { get; set; }
}

public sealed class TextEntry
{
    public string? Text { get; set; }
    public string? Source { get; set; }
}

public sealed class CardEntry
{
    public string? Display { get; set; }
    public string? Guideline { get; set; }
    /// <summary>Templates by name; <c>{placeholder}</c>s are filled by the card's builder (checked at start-up).</summary>
    public Dictionary<string, string>? Text { get; set; }
    public List<CodeEntry>? OverrideReasons { get; set; }
    /// <summary>The plain explanation page served for this card kind: why, with sources.</summary>
    public ExplainEntry? Explain { get; set; }
}

public sealed class ExplainEntry
{
    public string? Title { get; set; }
    public List<TextEntry>? Paragraphs { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(KnowledgeDocument))]
internal sealed partial class KnowledgeJsonContext : JsonSerializerContext;
