using System.Globalization;
using CdsHooks.Fhir;
using CdsHooks.Rls.Knowledge;

namespace CdsHooks.Rls.Snapshot;

/// <summary>
/// Interprets a <see cref="PatientRecord"/>: drops results that must not be used (entered-in-error, cancelled,
/// unknown units, dated in the future), keeps the newest valid value per analyte by effective[x] then issued,
/// converts units as the knowledge file says, classifies conditions, medications (current, past and given) and
/// allergies, works out pregnancy and RLS, and notes what could not be read. Nothing is guessed: a record it cannot
/// read counts as "could not check", never as "absent".
/// </summary>
public sealed class SnapshotBuilder(RlsKnowledge knowledge)
{
    private readonly MedicationClassifier _classifier = new(knowledge);

    public MedicationClassifier Classifier => _classifier;

    public PatientSnapshot Build(PatientRecord record, DateTimeOffset now)
    {
        var skipped = new List<string>();
        var gaps = new List<DataGap>(record.Gaps);
        var pregnancyObservations = new List<Observation>();
        var latest = LatestLabs(record.Observations, now, skipped, pregnancyObservations);
        var medications = Medications(record);
        var conditions = Conditions(record.Conditions);
        var allergies = Allergies(record.Allergies, gaps);
        var (age, ageWhy) = Age(record.Patient, now);

        return new PatientSnapshot
        {
            PatientId = record.PatientId,
            Now = now,
            AgeYears = age,
            AgeUnknownWhy = ageWhy,
            Sex = record.Patient?.Gender switch
            {
                "female" => Sex.Female,
                "male" => Sex.Male,
                "other" => Sex.Other,
                _ => Sex.Unknown,
            },
            Rls = RlsOf(conditions, medications, gaps),
            Anxiety = FirstOf(conditions, ConditionKind.Anxiety)?.Display,
            Conditions = conditions,
            Latest = latest,
            Skipped = skipped,
            Medications = medications,
            Allergies = allergies,
            Pregnancy = Pregnancy(conditions, pregnancyObservations, now, gaps),
            DraftedLabs = DraftedLabs(record.DraftOrders, null),
            SelectedLabs = DraftedLabs(record.DraftOrders, record.Selections),
            Gaps = gaps,
        };
    }

    /// <summary>Age in whole years, or why it is unknown: no birth date, or one in the future or before the plausible range.</summary>
    private (int? Age, string? Why) Age(Patient? patient, DateTimeOffset now)
    {
        if (patient?.BirthDate is not { } birthDate) return (null, "no birth date recorded");
        var born = FhirDateTime.TryParse(birthDate);
        if (born is null) return (null, $"birth date '{birthDate}' could not be read");
        if (born.Value > now || born.Value.Year < knowledge.Thresholds.EarliestPlausibleBirthYear)
        {
            return (null, $"birth date {birthDate} is not plausible");
        }
        return (FhirDateTime.AgeInYears(birthDate, DateOnly.FromDateTime(now.UtcDateTime)), null);
    }

    private static string OriginText(MedicationOrigin origin) => origin switch
    {
        MedicationOrigin.Draft => "being ordered",
        MedicationOrigin.ActiveOrder => "active order",
        MedicationOrigin.Statement => "active medication",
        MedicationOrigin.Administration => "given",
        _ => "past medication",
    };

    /// <summary>
    /// RLS is established from an active diagnosis (coded, or named in text). Without one, a drug whose use marks RLS
    /// counts only when none of its other likely indications is recorded (a dopamine agonist with Parkinson disease
    /// recorded is no RLS evidence) and the condition list was read completely, so the absence is known.
    /// </summary>
    private RlsEvidence? RlsOf(List<ConditionFact> conditions, List<MedicationFact> medications, List<DataGap> gaps)
    {
        foreach (var c in conditions)
        {
            if (c.Kind == ConditionKind.Rls) return new RlsEvidence($"{c.Display} (diagnosis)", FromCondition: true);
        }
        if (gaps.Exists(g => g.Area == DataArea.Conditions)) return null;
        foreach (var med in medications)
        {
            if (!med.IsCurrent) continue;
            foreach (var drug in med.Drugs.Each())
            {
                if (drug.Drug?.RlsEvidenceUnless is not { } unless) continue;
                if (conditions.Exists(c => unless.Contains(c.Kind))) continue;
                return new RlsEvidence($"{med.Name} ({OriginText(med.Origin)}), an RLS treatment with no other indication recorded; no RLS diagnosis is recorded", FromCondition: false);
            }
        }
        return null;
    }

    private Dictionary<Analyte, LabResult> LatestLabs(IReadOnlyList<Observation> observations, DateTimeOffset now, List<string> skipped, List<Observation> pregnancy)
    {
        var latest = new Dictionary<Analyte, LabResult>();
        var issuedOf = new Dictionary<Analyte, DateTimeOffset?>();
        var latestAcceptable = now.AddHours(knowledge.Thresholds.LabFutureToleranceHours);
        foreach (var obs in observations)
        {
            if (!knowledge.IsAcceptedStatus(obs.Status)) continue; // entered-in-error, cancelled, registered, ...
            var (analyte, loinc) = AnalyteOf(obs.Code);
            if (analyte is null)
            {
                if (loinc is not null) pregnancy.Add(obs);
                continue;
            }

            // The label and date are text for the caveats of skipped results only: built when a result is skipped.
            var when = obs.When();
            if (when is null)
            {
                skipped.Add($"{Label(analyte.Value, loinc)}: no effective date or issued time");
                continue;
            }
            if (when.Value > latestAcceptable)
            {
                // A result dated ahead is a data error; taken as the newest it would hide the real one.
                skipped.Add($"{Label(analyte.Value, loinc)} dated {Date(when.Value)}, in the future");
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
                    skipped.Add(string.IsNullOrWhiteSpace(unit)
                        ? $"{Label(analyte.Value, loinc)} {Date(when.Value)}: no unit given, value {q.Value} not used"
                        : $"{Label(analyte.Value, loinc)} {Date(when.Value)}: unit '{unit}' cannot be read as {knowledge.CanonicalUnit(analyte.Value)}, value {q.Value} not used");
                    continue;
                }
                unit = q.Unit;
            }

            var canonicalUnit = knowledge.CanonicalUnit(analyte.Value);
            var reportedAs = string.Equals(unit, canonicalUnit, StringComparison.OrdinalIgnoreCase) ? null : $"{q.Comparator}{q.Value} {unit}";
            var issued = FhirDateTime.TryParse(obs.Issued);
            if (latest.TryGetValue(analyte.Value, out var current)
                && !(when.Value > current.When || (when.Value == current.When && issued > issuedOf[analyte.Value])))
            {
                continue;
            }
            latest[analyte.Value] = new LabResult(analyte.Value, Math.Round(value, 1), q.Comparator, canonicalUnit, when.Value, loinc!, reportedAs,
                SourceId: obs.TypedId);
            issuedOf[analyte.Value] = issued;
        }

        DeriveTsat(latest);
        return latest;
    }

    private static string Label(Analyte analyte, string? loinc) => $"{CardKinds.FileName(analyte)} ({loinc})";

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
            $"calculated from iron {iron.Value} ug/dL / TIBC {tibc.Value} ug/dL", Derived: true, SourceId: iron.SourceId);
    }

    /// <summary>The analyte of a LOINC-coded Observation; (null, loinc) for a pregnancy Observation; (null, null) otherwise.</summary>
    private (Analyte?, string?) AnalyteOf(CodeableConcept? code)
    {
        foreach (var c in code?.Coding ?? [])
        {
            if (c.System != FhirSystems.Loinc || c.Code is null) continue;
            if (knowledge.AnalyteForLoinc(c.Code) is { } a) return (a, c.Code);
            if (knowledge.IsPregnancyStatus(c.Code) || knowledge.IsGestationalAge(c.Code) || knowledge.IsDeliveryDate(c.Code)) return (null, c.Code);
        }
        return (null, null);
    }

    // ---- Conditions -------------------------------------------------------------------------------------------------

    /// <summary>Every active, not refuted condition of a kind the rules use (a condition may be of several kinds).</summary>
    private List<ConditionFact> Conditions(IReadOnlyList<Condition> conditions)
    {
        var facts = new List<ConditionFact>();
        List<(string, ConditionKind)>? names = null;
        foreach (var condition in conditions)
        {
            if (!IsActive(condition) || condition.Code is not { } code) continue;
            var display = code.DisplayText() ?? "unnamed condition";
            var recorded = FhirDateTime.TryParse(condition.RecordedDate) ?? FhirDateTime.TryParse(condition.OnsetDateTime) ?? FhirDateTime.TryParse(condition.OnsetPeriod?.Start);
            var first = facts.Count;
            foreach (var c in code.Coding ?? [])
            {
                if (knowledge.MatchCondition(c.System, c.Code) is { } match && !Contains(facts, first, match.Kind))
                {
                    facts.Add(new ConditionFact(match.Kind, display, match, recorded));
                }
            }
            names ??= [];
            foreach (var text in Texts(code))
            {
                names.Clear();
                knowledge.ConditionNames.FindAll(text, names);
                foreach (var (_, kind) in names)
                {
                    if (!Contains(facts, first, kind)) facts.Add(new ConditionFact(kind, display, new ConditionMatch(kind), recorded));
                }
            }
        }
        return facts;
    }

    private static ConditionFact? FirstOf(List<ConditionFact> facts, ConditionKind kind)
    {
        foreach (var c in facts)
        {
            if (c.Kind == kind) return c;
        }
        return null;
    }

    private static bool Contains(List<ConditionFact> facts, int from, ConditionKind kind)
    {
        for (int i = from; i < facts.Count; i++)
        {
            if (facts[i].Kind == kind) return true;
        }
        return false;
    }

    private static IEnumerable<string> Texts(CodeableConcept code)
    {
        if (!string.IsNullOrWhiteSpace(code.Text)) yield return code.Text;
        foreach (var c in code.Coding ?? [])
        {
            if (!string.IsNullOrWhiteSpace(c.Display)) yield return c.Display;
        }
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

    // ---- Pregnancy --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Pregnancy now, from active pregnancy conditions and pregnancy status, gestational age and delivery date
    /// Observations. Each dated piece of evidence bounds today's gestational age; the bounds are intersected. A
    /// "not pregnant" status newer than every sign of pregnancy ends it; a status whose answer the knowledge file does
    /// not know, or a gestational age in an unknown unit, makes pregnancy "could not check".
    /// </summary>
    private PregnancyFact Pregnancy(List<ConditionFact> conditions, List<Observation> observations, DateTimeOffset now, List<DataGap> gaps)
    {
        var t = knowledge.Thresholds;
        decimal low = 0;
        decimal? high = null;
        var evidence = new List<string>();
        DateTimeOffset? newestPregnant = null;
        DateTimeOffset? newestNotPregnant = null;
        DateTimeOffset? newestUnknown = null;
        string? unreadable = null;
        var pregnant = false;

        void Bound(decimal weeksLow, decimal? weeksHigh, DateTimeOffset? asOf)
        {
            // Gestational age grows one week per week; without a date only the lower bound is known to hold.
            if (asOf is null)
            {
                low = Math.Max(low, weeksLow);
                return;
            }
            var elapsed = (decimal)(now - asOf.Value).TotalDays / 7m;
            low = Math.Max(low, weeksLow + elapsed);
            if (weeksHigh is { } h) high = high is null ? h + elapsed : Math.Min(high.Value, h + elapsed);
        }

        foreach (var c in conditions)
        {
            if (c.Kind != ConditionKind.Pregnancy) continue;
            pregnant = true;
            evidence.Add($"diagnosis {c.Display}");
            if (c.Recorded is { } r && (newestPregnant is null || r > newestPregnant)) newestPregnant = r;
            if (c.Match.WeeksLow is { } wl) Bound(wl, c.Match.WeeksHigh, c.Recorded);
            if (c.Match.Trimester is { } tri)
            {
                var (from, to) = tri switch
                {
                    1 => (0m, (decimal?)t.SecondTrimesterFromWeeks),
                    2 => (t.SecondTrimesterFromWeeks, (decimal?)t.ThirdTrimesterFromWeeks),
                    _ => (t.ThirdTrimesterFromWeeks, (decimal?)t.PregnancyOverAfterWeeks),
                };
                Bound(from, to, c.Recorded);
            }
        }

        var statusWindow = now.AddDays(-t.PregnancyStatusWindowDays);
        foreach (var obs in observations)
        {
            var when = obs.When();
            var loinc = obs.Code!.Coding!.First(c => c.System == FhirSystems.Loinc && c.Code is not null && (knowledge.IsPregnancyStatus(c.Code) || knowledge.IsGestationalAge(c.Code) || knowledge.IsDeliveryDate(c.Code))).Code!;
            if (knowledge.IsPregnancyStatus(loinc))
            {
                if (when is null || when < statusWindow) continue;
                var answer = obs.ValueCodeableConcept?.Coding?.Select(c => knowledge.PregnancyAnswerFor(c.Code)).FirstOrDefault(a => a is not null);
                switch (answer)
                {
                    case PregnancyAnswer.Pregnant:
                        pregnant = true;
                        evidence.Add($"pregnancy status 'pregnant' on {Date(when.Value)}");
                        if (newestPregnant is null || when > newestPregnant) newestPregnant = when;
                        break;
                    case PregnancyAnswer.NotPregnant:
                        if (newestNotPregnant is null || when > newestNotPregnant) newestNotPregnant = when;
                        break;
                    case PregnancyAnswer.Unknown:
                        if (newestUnknown is null || when > newestUnknown) newestUnknown = when;
                        break;
                    default:
                        unreadable = $"a pregnancy status on {Date(when.Value)} has an answer this service does not know";
                        break;
                }
            }
            else if (knowledge.IsGestationalAge(loinc))
            {
                var q = obs.ValueQuantity;
                var unit = q?.System == FhirSystems.Ucum && !string.IsNullOrWhiteSpace(q.Code) ? q.Code : q?.Unit;
                if (q?.Value is null || unit is null || !knowledge.TryGestationWeeks(unit, q.Value.Value, out var weeks))
                {
                    unreadable = "a gestational age has no value or a unit this service does not know";
                    continue;
                }
                if (when is null) continue;
                var nowWeeks = weeks + (decimal)(now - when.Value).TotalDays / 7m;
                if (nowWeeks > t.PregnancyOverAfterWeeks) continue; // that pregnancy has ended
                pregnant = true;
                evidence.Add($"gestational age {weeks:0.#} weeks on {Date(when.Value)}");
                if (newestPregnant is null || when > newestPregnant) newestPregnant = when;
                Bound(weeks, weeks, when);
            }
            else
            {
                var due = FhirDateTime.TryParse(obs.ValueDateTime);
                if (due is null)
                {
                    unreadable = "an estimated delivery date has no date value";
                    continue;
                }
                var weeksNow = t.TermWeeks - (decimal)(due.Value - now).TotalDays / 7m;
                if (weeksNow > t.PregnancyOverAfterWeeks || weeksNow < 0) continue; // past, or implausibly far ahead
                pregnant = true;
                evidence.Add($"estimated delivery date {Date(due.Value)}");
                var recorded = when ?? now;
                if (newestPregnant is null || recorded > newestPregnant) newestPregnant = recorded;
                Bound(weeksNow, weeksNow, now);
            }
        }

        if (unreadable is not null) gaps.Add(new DataGap(DataArea.Pregnancy, Partial: true, unreadable));
        // A newer "not pregnant" ends what came before it (a pregnancy condition often stays active after delivery).
        if (pregnant && newestNotPregnant is { } notPregnant && (newestPregnant is null || notPregnant > newestPregnant)) pregnant = false;
        if (pregnant)
        {
            if (high is { } h && h < low) return new PregnancyFact(PregnancyState.Pregnant, null, null, string.Join("; ", evidence) + " (the dates disagree)");
            return new PregnancyFact(PregnancyState.Pregnant, low, high, string.Join("; ", evidence));
        }
        if (newestUnknown is { } unknown && (newestNotPregnant is null || unknown > newestNotPregnant))
        {
            return new PregnancyFact(PregnancyState.Unknown, null, null, $"pregnancy status 'unknown' on {Date(unknown)}");
        }
        return PregnancyFact.None;
    }

    // ---- Allergies --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Active allergies and intolerances to iron. An entry that names nothing readable (no text, no display, no code
    /// this service knows) could be to iron: the allergy list then counts as not fully checked.
    /// </summary>
    private List<AllergyFact> Allergies(IReadOnlyList<AllergyIntolerance> allergies, List<DataGap> gaps)
    {
        var facts = new List<AllergyFact>();
        var unreadable = 0;
        var drugs = new List<(string, KnownDrug)>();
        var words = new List<(string, IronForm)>();
        foreach (var allergy in allergies)
        {
            if (!IsActive(allergy)) continue;
            var forms = IronForm.None;
            var readable = false;
            foreach (var concept in Concepts(allergy))
            {
                foreach (var c in concept.Coding ?? [])
                {
                    if (knowledge.DrugForCode(c.System, c.Code) is { } known)
                    {
                        readable = true;
                        forms |= FormsOf(known);
                    }
                }
                foreach (var text in Texts(concept))
                {
                    readable = true;
                    drugs.Clear();
                    knowledge.DrugNames.FindAll(text, drugs);
                    var named = IronForm.None;
                    foreach (var (_, drug) in drugs) named |= FormsOf(drug);
                    if (named == IronForm.None)
                    {
                        // Only when no iron product is named: "iron sucrose" is an IV iron, not "iron" in general.
                        words.Clear();
                        knowledge.AllergyIronNames.FindAll(text, words);
                        foreach (var (_, form) in words) named |= form;
                    }
                    forms |= named;
                }
            }
            if (!readable)
            {
                unreadable++;
                continue;
            }
            if (forms == IronForm.None) continue;
            facts.Add(new AllergyFact(forms, IsSerious(allergy), Describe(allergy)));
        }
        if (unreadable > 0)
        {
            gaps.Add(new DataGap(DataArea.Allergies, Partial: true,
                unreadable == 1 ? "an allergy entry names no substance this service can read" : $"{unreadable} allergy entries name no substance this service can read"));
        }
        return facts;
    }

    private static IronForm FormsOf(KnownDrug drug) => drug.Class switch
    {
        DrugClass.OralIron => IronForm.Oral,
        DrugClass.IvIron => string.Equals(drug.Ingredient, "ferric carboxymaltose", StringComparison.OrdinalIgnoreCase) ? IronForm.Iv | IronForm.FerricCarboxymaltose : IronForm.Iv,
        _ => IronForm.None,
    };

    private static IEnumerable<CodeableConcept> Concepts(AllergyIntolerance allergy)
    {
        if (allergy.Code is not null) yield return allergy.Code;
        foreach (var r in allergy.Reaction ?? [])
        {
            if (r.Substance is not null) yield return r.Substance;
        }
    }

    private bool IsSerious(AllergyIntolerance allergy)
    {
        if (allergy.Criticality == "high") return true;
        foreach (var r in allergy.Reaction ?? [])
        {
            if (r.Severity == "severe") return true;
            if (knowledge.SeriousReactionNames.Contains(r.Description, true)) return true;
            foreach (var m in r.Manifestation ?? [])
            {
                foreach (var text in Texts(m))
                {
                    if (knowledge.SeriousReactionNames.Contains(text, true)) return true;
                }
            }
        }
        return false;
    }

    private static string Describe(AllergyIntolerance allergy)
    {
        var what = allergy.Code?.DisplayText() ?? allergy.Reaction?.FirstOrDefault()?.Substance?.DisplayText() ?? "iron";
        var kind = allergy.Type == "intolerance" ? "intolerance" : "allergy";
        var reaction = allergy.Reaction?.SelectMany(r => r.Manifestation ?? []).Select(m => m.DisplayText()).FirstOrDefault(m => m is not null);
        return reaction is null ? $"{kind} to {what}" : $"{kind} to {what}, {reaction.ToLowerInvariant()}";
    }

    /// <summary>AllergyIntolerance: clinical status active (or none, when not refuted or entered in error).</summary>
    private static bool IsActive(AllergyIntolerance allergy)
    {
        foreach (var c in allergy.VerificationStatus?.Coding ?? [])
        {
            if (c.Code is "refuted" or "entered-in-error") return false;
        }
        var clinical = allergy.ClinicalStatus?.Coding;
        return clinical is null || clinical.Count == 0 || clinical.Exists(c => c.Code == "active");
    }

    // ---- Medications ------------------------------------------------------------------------------------------------

    private List<MedicationFact> Medications(PatientRecord record)
    {
        var byReference = new Dictionary<string, Medication>(StringComparer.Ordinal);
        void Index(Medication m, string? fullUrl) => MedicationReferences.Index(byReference, m, fullUrl);
        foreach (var m in record.Medications) Index(m, null);
        foreach (var e in record.DraftOrders?.Entry ?? [])
        {
            if (e.Resource is Medication m) Index(m, e.FullUrl);
        }

        var facts = new List<MedicationFact>();
        var selections = new HashSet<string>(record.Selections, StringComparer.Ordinal);
        foreach (var e in record.DraftOrders?.Entry ?? [])
        {
            if (e.Resource is MedicationRequest draft && draft.Status is not ("entered-in-error" or "cancelled" or "revoked"))
            {
                facts.Add(Fact(draft, MedicationOrigin.Draft, byReference, draft.TypedId is { } id && selections.Contains(id), null));
            }
        }
        foreach (var request in record.MedicationRequests)
        {
            var when = FhirDateTime.TryParse(request.AuthoredOn);
            if (request.Status == "active") facts.Add(Fact(request, MedicationOrigin.ActiveOrder, byReference, false, when));
            else if (request.Status is "completed" or "stopped") facts.Add(Fact(request, MedicationOrigin.PastOrder, byReference, false, when));
        }
        foreach (var statement in record.MedicationStatements)
        {
            var when = FhirDateTime.TryParse(statement.EffectiveDateTime) ?? FhirDateTime.TryParse(statement.EffectivePeriod?.End)
                ?? FhirDateTime.TryParse(statement.EffectivePeriod?.Start) ?? FhirDateTime.TryParse(statement.DateAsserted);
            if (statement.Status == "active") facts.Add(Fact(statement, MedicationOrigin.Statement, byReference, false,
                FhirDateTime.TryParse(statement.EffectivePeriod?.Start) ?? when));
            else if (statement.Status is "completed" or "stopped") facts.Add(Fact(statement, MedicationOrigin.PastStatement, byReference, false, when));
        }
        foreach (var given in record.MedicationAdministrations)
        {
            if (given.Status is not ("completed" or "in-progress")) continue;
            var when = FhirDateTime.TryParse(given.EffectiveDateTime) ?? FhirDateTime.TryParse(given.EffectivePeriod?.Start);
            facts.Add(Fact(given, MedicationOrigin.Administration, byReference, false, when));
        }
        return facts;
    }

    private MedicationFact Fact(MedicationUse use, MedicationOrigin origin, Dictionary<string, Medication> byReference, bool selected, DateTimeOffset? when)
    {
        var medication = MedicationReferences.Resolve(use, byReference);
        // medicationReference.display is often all there is: the prefetch searches have no _include, so the referenced
        // Medication is usually absent from the answer. Its display is classified like text.
        var concept = use.MedicationCodeableConcept
            ?? (use.MedicationReference?.Display is { } display ? new CodeableConcept { Text = display } : null);
        var drugs = _classifier.Classify(concept, medication);
        var name = use.MedicationCodeableConcept?.DisplayText()
            ?? medication?.Code?.DisplayText()
            ?? use.MedicationReference?.Display
            ?? (drugs.Count > 0 ? drugs[0].Ingredient : "unnamed medication");
        return new MedicationFact(name, drugs, origin, use.TypedId, selected, when,
            drugs.Count > 0 ? null : Unidentified(use, concept, medication));
    }

    /// <summary>
    /// Why the drug of a medication cannot be told, or null when it can: a name (text or display) was read, or a
    /// code matched a known drug. A code this service does not know, with no name, could be any drug.
    /// </summary>
    private static string? Unidentified(MedicationUse use, CodeableConcept? concept, Medication? medication)
    {
        if (HasName(concept) || HasName(medication?.Code) || medication?.Ingredient?.Exists(i => HasName(i.ItemCodeableConcept) || i.ItemReference?.Display is not null) == true)
        {
            return null;
        }
        if (use.MedicationReference?.ReferenceValue is { } reference && medication is null) return $"it points at {reference}, which could not be read";
        if (concept?.Coding is { Count: > 0 } || medication?.Code?.Coding is { Count: > 0 }) return "its code is not one this service knows and it has no name";
        return "it names no medication";
    }

    private static bool HasName(CodeableConcept? concept)
    {
        if (concept is null) return false;
        if (!string.IsNullOrWhiteSpace(concept.Text)) return true;
        foreach (var c in concept.Coding ?? [])
        {
            if (!string.IsNullOrWhiteSpace(c.Display)) return true;
        }
        return false;
    }

    /// <summary>The analytes draft ServiceRequests already order: by the analyte's own LOINC, or a panel's (iron/TIBC gives TSAT).</summary>
    private HashSet<Analyte> DraftedLabs(Bundle? drafts, IReadOnlyList<string>? selections)
    {
        var drafted = new HashSet<Analyte>();
        foreach (var e in drafts?.Entry ?? [])
        {
            if (e.Resource is not ServiceRequest sr || sr.Status is "revoked" or "entered-in-error") continue;
            if (selections is not null && (sr.TypedId is not { } id || !selections.Contains(id))) continue;
            foreach (var c in sr.Code?.Coding ?? [])
            {
                if (c.System != FhirSystems.Loinc || c.Code is null) continue;
                foreach (var covered in knowledge.PanelCovers(c.Code)) drafted.Add(covered);
            }
        }
        return drafted;
    }
}
