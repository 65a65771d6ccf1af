using System.Globalization;
using CdsHooks.Fhir;
using CdsHooks.Rls.Knowledge;

namespace CdsHooks.Rls.Snapshot;

/// <summary>
/// Interprets a <see cref="PatientRecord"/>: drops results that must not be used (entered-in-error, cancelled,
/// unknown units), keeps the newest valid value per analyte by effective[x] then issued, converts units as the
/// knowledge file says, classifies medications and diagnoses.
/// </summary>
public sealed class SnapshotBuilder(RlsKnowledge knowledge)
{
    private readonly MedicationClassifier _classifier = new(knowledge);

    public MedicationClassifier Classifier => _classifier;

    public PatientSnapshot Build(PatientRecord record, DateTimeOffset now)
    {
        var skipped = new List<string>();
        var latest = LatestLabs(record.Observations, skipped);
        var medications = Medications(record);

        var rlsCondition = FirstActive(record.Conditions, ConditionKind.Rls);
        RlsEvidence? rls = rlsCondition is not null
            ? new RlsEvidence($"{rlsCondition} (problem list)", FromCondition: true)
            : medications.FirstOrDefault(m => m.Has(DrugClass.RlsTreatment)) is { } rlsDrug
                ? new RlsEvidence($"{rlsDrug.Name} ({OriginText(rlsDrug.Origin)}), an RLS treatment; no RLS diagnosis is recorded", FromCondition: false)
                : null;

        return new PatientSnapshot
        {
            PatientId = record.PatientId,
            Now = now,
            AgeYears = FhirDateTime.AgeInYears(record.Patient?.BirthDate, DateOnly.FromDateTime(now.UtcDateTime)),
            Rls = rls,
            Anxiety = FirstActive(record.Conditions, ConditionKind.Anxiety),
            Latest = latest,
            Skipped = skipped,
            Medications = medications,
            IronStudiesAlreadyOrdered = DraftsOrderIronStudies(record.DraftOrders),
            Unavailable = record.Unavailable,
        };
    }

    private static string OriginText(MedicationOrigin origin) => origin switch
    {
        MedicationOrigin.Draft => "being ordered",
        MedicationOrigin.ActiveOrder => "active order",
        _ => "active medication",
    };

    private Dictionary<Analyte, LabResult> LatestLabs(IReadOnlyList<Observation> observations, List<string> skipped)
    {
        var latest = new Dictionary<Analyte, LabResult>();
        var issuedOf = new Dictionary<Analyte, DateTimeOffset?>();
        foreach (var obs in observations)
        {
            if (!knowledge.IsAcceptedStatus(obs.Status)) continue; // entered-in-error, cancelled, registered, ...
            var (analyte, loinc) = AnalyteOf(obs.Code);
            if (analyte is null) continue;

            // The label and date are text for the caveats of skipped results only: built when a result is skipped.
            var when = obs.When();
            if (when is null)
            {
                skipped.Add($"{Label(analyte.Value, loinc)}: no effective date or issued time");
                continue;
            }
            var q = obs.ValueQuantity;
            if (q?.Value is null)
            {
                if (obs.ValueString is null && q is null) skipped.Add($"{Label(analyte.Value, loinc)} {Date(when.Value)}: no numeric value");
                else skipped.Add($"{Label(analyte.Value, loinc)} {Date(when.Value)}: value '{obs.ValueString ?? "(empty)"}' is not a quantity");
                continue;
            }

            var unit = q.System == FhirSystems.Ucum && !string.IsNullOrWhiteSpace(q.Code) ? q.Code : q.Unit;
            decimal value;
            if (string.IsNullOrWhiteSpace(unit) || !knowledge.TryConvert(analyte.Value, unit, q.Value.Value, out value))
            {
                // A second chance for the human-readable unit when the coded one is unknown.
                if (q.Unit is null || q.Unit == unit || !knowledge.TryConvert(analyte.Value, q.Unit, q.Value.Value, out value))
                {
                    skipped.Add($"{Label(analyte.Value, loinc)} {Date(when.Value)}: unit '{unit ?? "(none)"}' not recognised, value {q.Value} not used");
                    continue;
                }
                unit = q.Unit;
            }

            var canonicalUnit = knowledge.CanonicalUnit(analyte.Value);
            var reportedAs = string.Equals(unit, canonicalUnit, StringComparison.OrdinalIgnoreCase) ? null : $"{q.Comparator}{q.Value} {unit}";
            var result = new LabResult(analyte.Value, Math.Round(value, 1), q.Comparator, canonicalUnit, when.Value, loinc!, reportedAs);

            var issued = FhirDateTime.TryParse(obs.Issued);
            if (!latest.TryGetValue(analyte.Value, out var current)
                || result.When > current.When
                || (result.When == current.When && issued > issuedOf[analyte.Value]))
            {
                latest[analyte.Value] = result;
                issuedOf[analyte.Value] = issued;
            }
        }

        DeriveTsat(latest);
        return latest;
    }

    private static string Label(Analyte analyte, string? loinc) => $"{analyte.ToString().ToLowerInvariant()} ({loinc})";

    private static string Date(DateTimeOffset when) => when.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// TSAT = serum iron / TIBC x 100 when both were drawn the same day and no TSAT is reported for that draw
    /// (AASM 2024 GPS 1 describes TSAT as calculated from iron and TIBC).
    /// </summary>
    private static void DeriveTsat(Dictionary<Analyte, LabResult> latest)
    {
        if (!latest.TryGetValue(Analyte.Iron, out var iron) || !latest.TryGetValue(Analyte.Tibc, out var tibc)) return;
        if (iron.Comparator is not null || tibc.Comparator is not null || tibc.Value <= 0) return;
        if (iron.When.UtcDateTime.Date != tibc.When.UtcDateTime.Date) return;
        if (latest.TryGetValue(Analyte.Tsat, out var tsat) && tsat.When.UtcDateTime.Date >= iron.When.UtcDateTime.Date) return;

        var value = Math.Round(iron.Value / tibc.Value * 100m, 1);
        latest[Analyte.Tsat] = new LabResult(Analyte.Tsat, value, null, "%", iron.When, "calculated",
            $"calculated from iron {iron.Value} ug/dL / TIBC {tibc.Value} ug/dL", Derived: true);
    }

    private (Analyte?, string?) AnalyteOf(CodeableConcept? code)
    {
        foreach (var c in code?.Coding ?? [])
        {
            if (c.System == FhirSystems.Loinc && c.Code is not null && knowledge.AnalyteForLoinc(c.Code) is { } a) return (a, c.Code);
        }
        return (null, null);
    }

    /// <summary>The display of the first active, not refuted condition of this kind (by code, then by name).</summary>
    private string? FirstActive(IReadOnlyList<Condition> conditions, ConditionKind kind)
    {
        foreach (var condition in conditions)
        {
            if (!IsActive(condition) || !IsKind(condition.Code, kind)) continue;
            return condition.Code?.DisplayText() ?? kind.ToString();
        }
        return null;
    }

    private bool IsKind(CodeableConcept? code, ConditionKind kind)
    {
        if (code is null) return false;
        foreach (var c in code.Coding ?? [])
        {
            if (knowledge.ConditionKindFor(c.System, c.Code) == kind) return true;
        }
        if (knowledge.ConditionNames.Contains(code.Text, kind)) return true;
        foreach (var c in code.Coding ?? [])
        {
            if (knowledge.ConditionNames.Contains(c.Display, kind)) return true;
        }
        return false;
    }

    /// <summary>FHIR R4 Condition: active/recurrence/relapse (or no status and no abatement), and not refuted/entered-in-error.</summary>
    private static bool IsActive(Condition condition)
    {
        foreach (var c in condition.VerificationStatus?.Coding ?? [])
        {
            if (c.Code is "refuted" or "entered-in-error") return false;
        }
        var clinical = condition.ClinicalStatus?.Coding;
        if (clinical is null || clinical.Count == 0)
        {
            return condition.AbatementDateTime is null && condition.AbatementString is null;
        }
        return clinical.Exists(c => c.Code is "active" or "recurrence" or "relapse");
    }

    private List<MedicationFact> Medications(PatientRecord record)
    {
        var byReference = new Dictionary<string, Medication>(StringComparer.Ordinal);
        void Index(Medication m, string? fullUrl)
        {
            if (m.Id is not null) byReference.TryAdd("Medication/" + m.Id, m);
            if (fullUrl is not null) byReference.TryAdd(fullUrl, m);
        }
        foreach (var m in record.Medications) Index(m, null);
        foreach (var e in record.DraftOrders?.Entry ?? [])
        {
            if (e.Resource is Medication m) Index(m, e.FullUrl);
        }

        var facts = new List<MedicationFact>();
        var selections = new HashSet<string>(record.Selections, StringComparer.Ordinal);
        foreach (var e in record.DraftOrders?.Entry ?? [])
        {
            if (e.Resource is MedicationRequest draft)
            {
                facts.Add(Fact(draft, MedicationOrigin.Draft, byReference, draft.TypedId is { } id && selections.Contains(id)));
            }
        }
        foreach (var request in record.MedicationRequests)
        {
            if (request.Status == "active") facts.Add(Fact(request, MedicationOrigin.ActiveOrder, byReference, false));
        }
        foreach (var statement in record.MedicationStatements)
        {
            if (statement.Status == "active") facts.Add(Fact(statement, MedicationOrigin.Statement, byReference, false));
        }
        return facts;
    }

    private MedicationFact Fact(MedicationUse use, MedicationOrigin origin, Dictionary<string, Medication> byReference, bool selected)
    {
        var medication = Resolve(use, byReference);
        // medicationReference.display is often all there is: the prefetch searches have no _include, so the referenced
        // Medication is usually absent from the answer. Its display is classified like text.
        var concept = use.MedicationCodeableConcept
            ?? (use.MedicationReference?.Display is { } display ? new CodeableConcept { Text = display } : null);
        var drugs = _classifier.Classify(concept, medication);
        var name = use.MedicationCodeableConcept?.DisplayText()
            ?? medication?.Code?.DisplayText()
            ?? use.MedicationReference?.Display
            ?? (drugs.Count > 0 ? drugs[0].Ingredient : "unnamed medication");
        return new MedicationFact(name, drugs, origin, use.TypedId, selected);
    }

    private static Medication? Resolve(MedicationUse use, Dictionary<string, Medication> byReference)
    {
        var reference = use.MedicationReference?.ReferenceValue;
        if (string.IsNullOrEmpty(reference)) return null;
        if (reference[0] == '#') return use.FindContained(reference) as Medication;
        if (byReference.TryGetValue(reference, out var m)) return m;

        // An absolute reference ("https://ehr/fhir/Medication/42"): match on its last two segments.
        var i = reference.LastIndexOf("/Medication/", StringComparison.Ordinal);
        return i >= 0 && byReference.TryGetValue(reference[(i + 1)..], out m) ? m : null;
    }

    private bool DraftsOrderIronStudies(Bundle? drafts)
    {
        foreach (var e in drafts?.Entry ?? [])
        {
            if (e.Resource is not ServiceRequest sr || sr.Status is "revoked" or "entered-in-error") continue;
            foreach (var c in sr.Code?.Coding ?? [])
            {
                if (c.System != FhirSystems.Loinc || c.Code is null) continue;
                if (knowledge.IronStudiesOrderCodes.Any(o => o.Code == c.Code)) return true;
                if (knowledge.AnalyteForLoinc(c.Code) is Analyte.Ferritin or Analyte.Tsat or Analyte.Tibc) return true;
            }
        }
        return false;
    }
}
