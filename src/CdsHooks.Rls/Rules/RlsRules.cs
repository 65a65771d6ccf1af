using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Rules;

/// <summary>
/// The RLS iron and medication rules. Pure: a snapshot in, findings out, every threshold, product and
/// contraindication from the knowledge file. Every clinical decision is made here (which card, which orders are
/// safe to suggest and why the others are not, which results count, which caveats apply); the card builders only
/// word the findings.
/// <list type="bullet">
/// <item>order-select comments on the selected orders (plus patient-level iron findings); order-sign on all draft
/// orders; patient-view on active medications.</item>
/// <item>No order is suggested before its contraindications are checked (<see cref="Blocks"/>); when the data that
/// guards it could not be read, it is not suggested and the card says what could not be checked.</item>
/// <item>A draft iron order that meets a contraindication gets a caution (<see cref="IronOrderContraindicated"/>).</item>
/// </list>
/// </summary>
public sealed class RlsRules(RlsKnowledge knowledge)
{
    private readonly Contraindication _overload = knowledge.Contraindications[ContraindicationIds.IronOverload];
    private readonly Contraindication _hardStop = knowledge.Contraindications[ContraindicationIds.FerritinHardStop];
    private readonly Contraindication _firstTrimester = knowledge.Contraindications[ContraindicationIds.FirstTrimester];
    private readonly Contraindication _trimesterUnknown = knowledge.Contraindications[ContraindicationIds.TrimesterUnknown];
    private readonly Contraindication _laterPregnancy = knowledge.Contraindications[ContraindicationIds.LaterPregnancy];
    private readonly Contraindication _seriousIvAllergy = knowledge.Contraindications[ContraindicationIds.SeriousIvIronHypersensitivity];
    private readonly Contraindication _ivAllergy = knowledge.Contraindications[ContraindicationIds.IvIronHypersensitivity];
    private readonly Contraindication _oralAllergy = knowledge.Contraindications[ContraindicationIds.OralIronHypersensitivity];
    private readonly Contraindication _lowPhosphate = knowledge.Contraindications[ContraindicationIds.Hypophosphatemia];
    private readonly Contraindication _noPhosphate = knowledge.Contraindications[ContraindicationIds.PhosphateNotMeasured];
    private readonly Contraindication _recentIv = knowledge.Contraindications[ContraindicationIds.RecentIvIron];
    private readonly Contraindication _dialysis = knowledge.Contraindications[ContraindicationIds.Dialysis];
    private readonly Contraindication _oralInProgress = knowledge.Contraindications[ContraindicationIds.OralIronInProgress];
    private readonly Contraindication _ivInProgress = knowledge.Contraindications[ContraindicationIds.IvIronInProgress];
    private readonly Contraindication _ageUnknown = knowledge.Contraindications[ContraindicationIds.AgeUnknown];
    private readonly Contraindication _child = knowledge.Contraindications[ContraindicationIds.Child];
    private readonly Contraindication _adultPediatricForm = knowledge.Contraindications[ContraindicationIds.AdultPediatricForm];
    private readonly Product _fcm = knowledge.Products[SuggestionKeys.FerricCarboxymaltose];
    private readonly Product _oralIron = knowledge.Products[SuggestionKeys.FerrousSulfate];

    public Assessment Evaluate(PatientSnapshot s, HookKind hook)
    {
        if (s.Rls is null)
        {
            // Without RLS there is nothing to say, unless what was not read could hold the RLS diagnosis (conditions)
            // or an RLS treatment (medications, or a medication whose drug cannot be identified, which could be one):
            // then nothing useful can be said either way.
            List<DataGap>? unresolved = null;
            foreach (var gap in s.Gaps.Each())
            {
                if (gap.Area is DataArea.Conditions or DataArea.Medications) (unresolved ??= []).Add(gap);
            }
            foreach (var m in s.Medications.Each())
            {
                if (m.Unidentified is not { } why || !m.IsCurrent || (m.Origin == MedicationOrigin.Draft && !InScope(m, hook))) continue;
                (unresolved ??= []).Add(new DataGap(DataArea.Medications, Partial: true, why, KeyOf(m), "incomplete",
                    $"The drug of {m.ResourceId ?? "a medication"} could not be identified ({why}); it could be an RLS treatment, so whether the patient has RLS cannot be told."));
            }
            return unresolved is null ? Assessment.None : new Assessment([], unresolved);
        }

        var t = knowledge.Thresholds;
        var since = s.Now.AddDays(-t.IronStudiesWindowDays);
        var ferritin = Recent(s.Lab(Analyte.Ferritin), since);
        var tsat = Recent(s.Lab(Analyte.Tsat), since);
        var inScope = new List<MedicationFact>();
        foreach (var m in s.Medications.Each())
        {
            if (InScope(m, hook)) inScope.Add(m);
        }
        var findings = new List<Finding>();

        var ironStudies = IronStudies(s, ferritin, tsat);
        var orderCautions = IronOrderCautions(s, inScope, ferritin, tsat).ToList();
        // A draft iron order that is itself cautioned is not "in progress": the iron card offers what is safe instead.
        var cautioned = new HashSet<MedicationFact>();
        foreach (var c in orderCautions)
        {
            if (c switch { IronOrderContraindicated x => x.Order, IvIronNotIndicated y => y.Order, _ => null } is { } order) cautioned.Add(order);
        }
        var acceptableDrafts = new List<MedicationFact>();
        foreach (var m in inScope)
        {
            if (m.Origin == MedicationOrigin.Draft && m.IsIron && !cautioned.Contains(m)) acceptableDrafts.Add(m);
        }

        // An iron course the labs cannot show yet: re-test, not new iron. Otherwise the iron card for the labs, which
        // carries the missing ferritin or TSAT as a test rather than a second card.
        Finding? treatment = FollowUp(s, ferritin, tsat);
        if (treatment is IronFollowUp) ironStudies = null;
        treatment ??= IronTreatment(s, acceptableDrafts, cautioned, ferritin, tsat, ironStudies?.Order);
        if (treatment is IronTherapyIndicated or IvIronSuggested) ironStudies = null;
        if (treatment is null && orderCautions.Count == 0 && OverloadWorkup(s, tsat) is { } workup)
        {
            treatment = workup; // its repeat iron studies are the studies that were due
            ironStudies = null;
        }

        // Medication cautions: one card per drug, however many orders or statements carry it.
        var cautions = new Dictionary<string, Finding>(StringComparer.OrdinalIgnoreCase);
        var ironEvidence = Evidence(s, [s.Lab(Analyte.Ferritin), s.Lab(Analyte.Tsat)], since, showAge: false, ironValues: false);
        var parkinsonism = s.Has(ConditionKind.Parkinsonism);
        foreach (var med in inScope)
        {
            foreach (var drug in med.Drugs.Each())
            {
                Finding? finding = knowledge.CardFor(drug.Class) is { } kind
                    ? new AggravatingDrug(kind, med, drug, ironStudies) { Evidence = ironEvidence }
                    // Dopaminergic RLS treatment: augmentation. In Parkinson disease it treats the disease itself.
                    : drug.Class is DrugClass.DopamineAgonist or DrugClass.Levodopa && !parkinsonism
                        ? new AugmentationRisk(med, drug, LowIron(ferritin, tsat), ironStudies) { Evidence = ironEvidence }
                        : null;
                // The first carrier of a drug wins. Drafts and active medications never share a scope (order hooks
                // look at drafts only, patient-view at active ones), so there is no draft to prefer over a statement.
                if (finding is not null) cautions.TryAdd(finding.Key, finding);
            }
        }
        findings.AddRange(cautions.Values);

        // The caution cards carry the iron-studies suggestion themselves; a second card would duplicate it.
        if (ironStudies is not null && cautions.Count == 0) findings.Add(ironStudies);
        findings.AddRange(orderCautions);
        if (treatment is not null) findings.Add(treatment);

        // order-select and order-sign comment on what is being ordered: the patient-level iron cards only when an iron
        // product or iron test is in the orders, or a drug whose caution depends on iron status (patient-view has them all).
        if (hook != HookKind.PatientView && !IronIsRelevant(s, hook, inScope, cautions.Count > 0))
        {
            findings.RemoveAll(f => f.Kind is CardKind.IronStudies or CardKind.IronTherapy or CardKind.IvIron or CardKind.IronFollowUp or CardKind.IronOverloadWorkup);
        }

        if (DataIncomplete(s, inScope) is { } incomplete) findings.Add(incomplete);
        return new Assessment(findings, []);
    }

    private static bool IronIsRelevant(PatientSnapshot s, HookKind hook, List<MedicationFact> inScope, bool drugCaution)
    {
        if (drugCaution) return true;
        foreach (var m in inScope)
        {
            if (m.IsIron) return true;
        }
        var labs = hook == HookKind.OrderSelect ? s.SelectedLabs : s.DraftedLabs;
        return labs.Contains(Analyte.Ferritin) || labs.Contains(Analyte.Tsat) || labs.Contains(Analyte.Iron) || labs.Contains(Analyte.Tibc);
    }

    /// <summary>The recent results that call for iron (ferritin ≤ 75, TSAT &lt; 20), for the augmentation card.</summary>
    private List<LabResult> LowIron(LabResult? ferritin, LabResult? tsat)
    {
        var t = knowledge.Thresholds;
        var low = new List<LabResult>(2);
        if (ferritin?.AtMost(t.FerritinIronTherapyMax) == true) low.Add(ferritin);
        if (tsat?.Below(t.TsatIronTherapyBelow) == true) low.Add(tsat);
        return low;
    }

    // ---- Follow-up and overload --------------------------------------------------------------------------------------

    /// <summary>
    /// An iron course whose effect the latest iron studies cannot show: oral iron taken now (with a start date) and no
    /// ferritin or TSAT since it started; or IV iron given within the look-back and no ferritin or TSAT since then
    /// that is interpretable (ferritin stays raised for weeks after an infusion, so a result inside the look-back does
    /// not count). Re-testing is suggested from the course start plus the re-test interval, as an order once it is due.
    /// </summary>
    private IronFollowUp? FollowUp(PatientSnapshot s, LabResult? ferritin, LabResult? tsat)
    {
        var t = knowledge.Thresholds;
        MedicationFact? course = null;
        Route route = Route.Oral;
        foreach (var m in s.Medications.Each())
        {
            if (m.When is not { } start) continue;
            if (m.Has(DrugClass.IvIron) && m.Origin is MedicationOrigin.Administration or MedicationOrigin.PastOrder or MedicationOrigin.PastStatement
                && Within(start, s.Now, t.IvIronLookbackDays) && (course is null || start > course.When))
            {
                (course, route) = (m, Route.Iv);
            }
        }
        if (course is null)
        {
            foreach (var m in s.Medications.Each())
            {
                if (m.When is not { } start || !m.Has(DrugClass.OralIron) || m.Origin is not (MedicationOrigin.ActiveOrder or MedicationOrigin.Statement)) continue;
                if (course is null || start > course.When) (course, route) = (m, Route.Oral);
            }
        }
        if (course?.When is not { } from) return null;

        var interpretableFrom = route == Route.Iv ? from.AddDays(t.IvIronLookbackDays) : from;
        var latest = Max(ferritin?.When, tsat?.When);
        if (latest is { } l && l >= interpretableFrom) return null;

        var retest = from.AddDays(route == Route.Iv ? t.IronRetestAfterIvDays : t.IronRetestAfterOralDays);
        var due = s.Now >= retest && !(s.DraftedLabs.Contains(Analyte.Ferritin) && TsatDrafted(s));
        var evidence = Evidence(s, [s.Lab(Analyte.Ferritin), s.Lab(Analyte.Tsat)], s.Now.AddDays(-t.IronStudiesWindowDays), showAge: false, ironValues: false);
        return new IronFollowUp(course, route, from, retest, due ? knowledge.LabOrders[SuggestionKeys.IronStudies] : null) { Evidence = evidence };
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    /// <summary>
    /// TSAT at or above the work-up limit (AASLD 2011 screening threshold), when it is not explained: not drawn while
    /// taking iron or within the IV look-back, and no iron overload already recorded.
    /// </summary>
    private IronOverloadWorkup? OverloadWorkup(PatientSnapshot s, LabResult? tsat)
    {
        var t = knowledge.Thresholds;
        if (tsat is null || !tsat.AtLeast(t.TsatOverloadWorkupAtLeast) || s.Has(ConditionKind.IronOverload)) return null;
        foreach (var m in s.Medications.Each())
        {
            if (m.Has(DrugClass.IronChelator)) return null;
            if (m.IsIron && (m.IsCurrent || Within(m.When, s.Now, t.IvIronLookbackDays) || m.When is null && m.Origin == MedicationOrigin.Administration)) return null;
        }
        var evidence = Evidence(s, [s.Lab(Analyte.Ferritin), tsat], s.Now.AddDays(-t.IronStudiesWindowDays), showAge: false, ironValues: true);
        return new IronOverloadWorkup(tsat, knowledge.LabOrders[SuggestionKeys.IronStudies]) { Evidence = evidence };
    }

    // ---- Iron studies -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Ferritin and TSAT are both needed to judge iron status (AASM 2024 GPS 1): whichever has no recent result and is
    /// not already being ordered is suggested — both as the iron studies order, or the one that is missing.
    /// </summary>
    private IronStudiesDue? IronStudies(PatientSnapshot s, LabResult? ferritin, LabResult? tsat)
    {
        var needFerritin = ferritin is null && !s.DraftedLabs.Contains(Analyte.Ferritin);
        var needTsat = tsat is null && !TsatDrafted(s);
        if (!needFerritin && !needTsat) return null;
        var since = s.Now.AddDays(-knowledge.Thresholds.IronStudiesWindowDays);
        var evidence = Evidence(s, [s.Lab(Analyte.Ferritin), s.Lab(Analyte.Tsat)], since, showAge: true, ironValues: false);
        if (needFerritin && needTsat) return new IronStudiesDue([Analyte.Ferritin, Analyte.Tsat], null, knowledge.LabOrders[SuggestionKeys.IronStudies]) { Evidence = evidence };
        return needFerritin
            ? new IronStudiesDue([Analyte.Ferritin], tsat, knowledge.LabOrders[SuggestionKeys.Ferritin]) { Evidence = evidence }
            : new IronStudiesDue([Analyte.Tsat], ferritin, knowledge.LabOrders[SuggestionKeys.IronPanel]) { Evidence = evidence };
    }

    private static bool TsatDrafted(PatientSnapshot s) =>
        s.DraftedLabs.Contains(Analyte.Tsat) || (s.DraftedLabs.Contains(Analyte.Iron) && s.DraftedLabs.Contains(Analyte.Tibc));

    // ---- Iron treatment ---------------------------------------------------------------------------------------------

    private Finding? IronTreatment(PatientSnapshot s, List<MedicationFact> drafts, IReadOnlySet<MedicationFact> cautioned, LabResult? ferritin, LabResult? tsat, LabOrder? missingStudies)
    {
        var t = knowledge.Thresholds;
        var since = s.Now.AddDays(-t.IronStudiesWindowDays);
        var tests = new List<LabOrder>(2);
        if (missingStudies is not null) tests.Add(missingStudies);
        // drafts: the iron orders this hook comments on (the selected ones at order-select) that are not themselves
        // cautioned; carried as "in progress", or replaced (oral by IV in the IV-only range).
        var inProgress = drafts.Count > 0 ? drafts[0] : null;
        if (inProgress is null)
        {
            foreach (var m in s.Medications.Each())
            {
                if (m.IsIron && m.Origin is MedicationOrigin.ActiveOrder or MedicationOrigin.Statement)
                {
                    inProgress = m;
                    break;
                }
            }
        }

        if (s.IsChild(t))
        {
            // Children: oral iron below the pediatric ferritin threshold (AASM 2024 conditional); no IV iron, no TSAT rule.
            // A TSAT at or above the iron limit rules iron out at any age.
            if (ferritin?.Below(t.PediatricFerritinBelow) != true || tsat?.AtLeast(t.TsatIvIronBelow) == true) return null;
            var childOptions = drafts.Count > 0 ? [] : new List<IronOption> { Option(s, knowledge.Products[SuggestionKeys.FerrousSulfatePediatric], tests, cautioned) };
            return new IronTherapyIndicated(ferritin, tsat, childOptions, inProgress, tests)
            {
                Evidence = Evidence(s, [ferritin, tsat], since, showAge: true, ironValues: true),
                Context = Context(s, ferritin, tsat, child: true),
            };
        }

        var hardStop = ferritin?.AtLeast(t.FerritinHardStop) == true;
        // A TSAT at or above the IV-iron limit means iron is not deficient enough to supplement, whatever the
        // ferritin (IRLSSG 2018: iron helps RLS with TSAT < 45 %).
        var saturated = tsat?.AtLeast(t.TsatIvIronBelow) == true;
        var ivRange = ferritin is not null && !saturated && (tsat is null || tsat.Below(t.TsatIvIronBelow))
            && ferritin.Above(t.FerritinIronTherapyMax) && ferritin.AtMost(t.FerritinIvIronMax);
        var low = !ivRange && !hardStop && !saturated
            && (ferritin?.AtMost(t.FerritinIronTherapyMax) == true || tsat?.Below(t.TsatIronTherapyBelow) == true);
        if (!ivRange && !low) return null;

        var evidence = Evidence(s, [ferritin, tsat], since, showAge: true, ironValues: true);
        var context = Context(s, ferritin, tsat, child: false);
        if (ivRange)
        {
            // IV iron being ordered, with nothing against it: the order is what this card would suggest.
            if (drafts.Any(m => m.Has(DrugClass.IvIron))) return null;
            var oralOrder = drafts.FirstOrDefault(m => m.Has(DrugClass.OralIron));
            var options = new List<IronOption> { Option(s, _fcm, tests, cautioned) };
            return new IvIronSuggested(ferritin!, tsat, options, oralOrder, tests) { Evidence = evidence, Context = context };
        }

        // Iron already being ordered in this session: the card says so and suggests nothing more.
        var candidates = new List<IronOption>(2);
        if (drafts.Count == 0)
        {
            // IRLSSG 2018 limits initial IV iron to ferritin ≤ 100: above that, or with no recent ferritin, only oral.
            if (ferritin?.AtMost(t.FerritinIvIronMax) == true) candidates.Add(Option(s, _fcm, tests, cautioned));
            candidates.Add(Option(s, _oralIron, tests, cautioned));
        }
        return new IronTherapyIndicated(ferritin, tsat, candidates, inProgress, tests) { Evidence = evidence, Context = context };
    }

    /// <summary>
    /// Who the iron card speaks to: a child, a pregnancy, dialysis, iron-deficiency anaemia in a man or a
    /// post-menopausal woman (AGA 2020: look for the cause), a TSAT drawn after oral iron was started.
    /// </summary>
    private IronContext Context(PatientSnapshot s, LabResult? ferritin, LabResult? tsat, bool child)
    {
        var t = knowledge.Thresholds;
        LabResult? cause = null;
        if (!child && ferritin?.Below(t.IdaFerritinBelow) == true && Recent(s.Lab(Analyte.Hemoglobin), s.Now.AddDays(-t.IronStudiesWindowDays)) is { } hb
            && s.Pregnancy.State != PregnancyState.Pregnant
            && ((s.Sex == Sex.Male && hb.Below(t.HemoglobinLowMenBelow))
                || (s.Sex == Sex.Female && s.AgeYears >= t.PostMenopausalFromAge && hb.Below(t.HemoglobinLowBelow))))
        {
            cause = hb;
        }
        var tsatOnIron = false;
        if (tsat is not null)
        {
            foreach (var m in s.Medications.Each())
            {
                if (m.Has(DrugClass.OralIron) && m.Origin is MedicationOrigin.ActiveOrder or MedicationOrigin.Statement && (m.When is null || m.When <= tsat.When))
                {
                    tsatOnIron = true;
                    break;
                }
            }
        }
        return new IronContext(child, s.Pregnancy.State == PregnancyState.Pregnant, s.Has(ConditionKind.Dialysis), cause, tsatOnIron);
    }

    private IronOption Option(PatientSnapshot s, Product product, List<LabOrder> tests, IReadOnlySet<MedicationFact> cautioned)
    {
        var blocks = Blocks(s, product, cautioned);
        // The only thing keeping ferric carboxymaltose back is a missing phosphate: suggest measuring it.
        if (blocks.Count == 1 && blocks[0].Contraindication == _noPhosphate && !s.DraftedLabs.Contains(Analyte.Phosphate))
        {
            tests.Add(knowledge.LabOrders[SuggestionKeys.Phosphate]);
        }
        return new IronOption(product, blocks);
    }

    /// <summary>
    /// Everything that keeps <paramref name="product"/> from being suggested to this patient: contraindications
    /// recorded, and guarding data that could not be read (which counts as "could not check", never as "absent").
    /// </summary>
    private List<Block> Blocks(PatientSnapshot s, Product product, IReadOnlySet<MedicationFact> cautioned)
    {
        var t = knowledge.Thresholds;
        var blocks = new List<Block>();

        foreach (var reason in Contraindications(s, product.Route == Route.Oral ? DrugClass.OralIron : DrugClass.IvIron, product.Ingredient, forDraft: false, ignore: cautioned))
        {
            blocks.Add(reason);
        }

        // Doses are by age (and weight): no adult dose without a known adult age.
        if (s.AgeYears is null) blocks.Add(new Block(_ageUnknown, s.AgeUnknownWhy));
        else if (product.MinAgeYears is { } min && s.AgeYears < min) blocks.Add(new Block(_child, $"{s.AgeYears} years"));
        else if (product.MaxAgeYears is { } max && s.AgeYears > max) blocks.Add(new Block(_adultPediatricForm, $"{s.AgeYears} years"));

        blocks.AddRange(NotCheckedFor(s, product.Route));
        // A medication whose drug cannot be identified could be iron or a chelator: taken now, it keeps every iron
        // order back; given or stopped within the look-back (or undated), it keeps IV iron back.
        foreach (var m in s.Medications.Each())
        {
            if (m.Unidentified is not { } why || cautioned.Contains(m)) continue;
            if (m.IsCurrent && m.Origin != MedicationOrigin.Draft) blocks.Add(new Block(null, null, DataArea.Medications, $"{m.ResourceId ?? m.Name}: {why}"));
            else if (product.Route == Route.Iv && m.Origin is MedicationOrigin.Administration or MedicationOrigin.PastOrder or MedicationOrigin.PastStatement
                && (m.When is null || Within(m.When, s.Now, t.IvIronLookbackDays)))
            {
                blocks.Add(new Block(null, null, DataArea.IronHistory, $"{m.ResourceId ?? m.Name}: {why}"));
            }
        }
        if (product.IsFerricCarboxymaltose)
        {
            if (s.GapIn(DataArea.Phosphate) is { } gap) blocks.Add(new Block(null, null, DataArea.Phosphate, gap.Why));
            var phosphate = Recent(s.Lab(Analyte.Phosphate), s.Now.AddDays(-t.PhosphateWindowDays));
            if (phosphate is null && s.GapIn(DataArea.Phosphate) is null && !blocks.Exists(b => b.Contraindication == _lowPhosphate))
            {
                blocks.Add(new Block(_noPhosphate, $"none in the last {t.PhosphateWindowDays} days"));
            }
        }
        return blocks;
    }

    private static readonly DataArea[] AnyIronGuards = [DataArea.Conditions, DataArea.Medications, DataArea.Allergies];

    /// <summary>
    /// The data that must have been read before an iron order of <paramref name="route"/> is suggested (or an order of
    /// it goes unremarked), as blocks for what was not: conditions (overload, pregnancy), medications (chelators, iron
    /// already taken) and allergies for any iron; recent iron (a course in the look-back) and, for a patient who could
    /// be pregnant, pregnancy data for IV iron.
    /// </summary>
    private IEnumerable<Block> NotCheckedFor(PatientSnapshot s, Route route)
    {
        foreach (var area in AnyIronGuards)
        {
            if (s.GapIn(area) is { } gap) yield return new Block(null, null, area, gap.Why);
        }
        if (route != Route.Iv) yield break;
        if (s.GapIn(DataArea.IronHistory) is { } history) yield return new Block(null, null, DataArea.IronHistory, history.Why);
        if (s.Pregnancy.State == PregnancyState.Pregnant || !s.CouldBePregnant(knowledge.Thresholds)) yield break;
        if (s.GapIn(DataArea.Pregnancy) is { } pregnancy) yield return new Block(null, null, DataArea.Pregnancy, pregnancy.Why);
        // The latest pregnancy status says "unknown": as good as not read.
        else if (s.Pregnancy.State == PregnancyState.Unknown) yield return new Block(null, null, DataArea.Pregnancy, s.Pregnancy.Evidence);
    }

    /// <summary>
    /// The contraindications recorded for an iron drug of <paramref name="cls"/> (<paramref name="ingredient"/>): for a
    /// suggestion (all of them) or a draft order (those marked as cautions on a draft, and not the draft itself as its
    /// own duplicate).
    /// </summary>
    private List<Block> Contraindications(PatientSnapshot s, DrugClass cls, string ingredient, bool forDraft, MedicationFact? draft = null, IReadOnlySet<MedicationFact>? ignore = null)
    {
        var t = knowledge.Thresholds;
        var reasons = new List<Block>();
        void Add(Contraindication c, string detail)
        {
            if (!c.Rules(cls, ingredient) || (forDraft && !c.CautionOnDraft)) return;
            foreach (var r in reasons)
            {
                if (r.Contraindication == c) return;
            }
            reasons.Add(new Block(c, detail));
        }

        foreach (var c in s.Conditions.Each())
        {
            if (c.Kind == ConditionKind.IronOverload) Add(_overload, $"diagnosis {c.Display}");
            if (c.Kind == ConditionKind.Dialysis) Add(_dialysis, $"diagnosis {c.Display}");
        }
        foreach (var m in s.Medications.Each())
        {
            if (m.Has(DrugClass.IronChelator) && (m.IsCurrent || Within(m.When, s.Now, t.IvIronLookbackDays)))
            {
                Add(_overload, $"{m.Name}, {Origin(m)}");
            }
        }
        if (s.Lab(Analyte.Ferritin) is { } ferritin && ferritin.When >= s.Now.AddDays(-t.IronStudiesWindowDays) && ferritin.AtLeast(t.FerritinHardStop))
        {
            Add(_hardStop, $"ferritin {Value(ferritin)} on {Date(ferritin.When)}");
        }

        if (s.Pregnancy.State == PregnancyState.Pregnant)
        {
            // The detail is the gestational age; the card's basis lists the evidence it comes from.
            if (s.Pregnancy.WeeksHigh is { } high && high < t.SecondTrimesterFromWeeks) Add(_firstTrimester, s.Pregnancy.Weeks);
            else if (s.Pregnancy.WeeksLow is { } lowWeeks && lowWeeks >= t.SecondTrimesterFromWeeks) Add(_laterPregnancy, s.Pregnancy.Weeks);
            else Add(_trimesterUnknown, s.Pregnancy.Weeks);
        }

        foreach (var a in s.Allergies.Each())
        {
            if ((a.Forms & IronForm.Iv) != 0) Add(a.Serious ? _seriousIvAllergy : _ivAllergy, a.Description);
            if ((a.Forms & IronForm.Oral) != 0) Add(_oralAllergy, a.Description);
        }

        if (s.Lab(Analyte.Phosphate) is { } phosphate && Within(phosphate.When, s.Now, t.PhosphateWindowDays) && phosphate.Below(t.PhosphateLowBelow))
        {
            Add(_lowPhosphate, $"phosphate {Value(phosphate)} on {Date(phosphate.When)}");
        }

        foreach (var m in s.Medications.Each())
        {
            if (m == draft || !m.Has(DrugClass.IvIron)) continue;
            if (m.Origin is MedicationOrigin.Administration or MedicationOrigin.PastOrder or MedicationOrigin.PastStatement
                && (m.When is null || Within(m.When, s.Now, t.IvIronLookbackDays)))
            {
                Add(_recentIv, m.When is { } w ? $"{m.Name}, {Origin(m)} {Date(w)}" : $"{m.Name}, {Origin(m)}, date not recorded");
            }
        }

        // Iron already taken or ordered: never suggested again. A draft order is not cautioned as a duplicate of
        // another draft of the same session (a course of two infusions is often entered as two orders).
        foreach (var m in s.Medications.Each())
        {
            // A cautioned draft is on its way out: it does not make what is suggested instead a duplicate.
            if (m == draft || !m.IsCurrent || (forDraft && m.Origin == MedicationOrigin.Draft) || ignore?.Contains(m) == true) continue;
            if (m.Has(DrugClass.OralIron) && cls == DrugClass.OralIron) Add(_oralInProgress, $"{m.Name}, {Origin(m)}");
            if (m.Has(DrugClass.IvIron) && cls == DrugClass.IvIron && m.Origin is MedicationOrigin.ActiveOrder or MedicationOrigin.Draft)
            {
                Add(_ivInProgress, $"{m.Name}, {Origin(m)}");
            }
        }
        return reasons;
    }

    /// <summary>
    /// Every draft iron order in scope: a contraindication makes it a caution (critical where it can do serious harm);
    /// without one, an IV order the labs do not support gets the IV-iron caution.
    /// </summary>
    private IEnumerable<Finding> IronOrderCautions(PatientSnapshot s, List<MedicationFact> inScope, LabResult? ferritin, LabResult? tsat)
    {
        var t = knowledge.Thresholds;
        var since = s.Now.AddDays(-t.IronStudiesWindowDays);
        foreach (var order in inScope)
        {
            if (order.Origin != MedicationOrigin.Draft || !order.IsIron) continue;
            var iv = order.First(DrugClass.IvIron);
            var drug = iv ?? order.First(DrugClass.OralIron)!;
            var reasons = Contraindications(s, drug.Class, drug.Ingredient, forDraft: true, order);
            var onlyHardStop = iv is not null && reasons.Count == 1 && reasons[0].Contraindication == _hardStop;
            // On dialysis IV iron (iron sucrose and the like) treats the anaemia of kidney failure: the RLS limits do not
            // make it "not indicated" at a ferritin over 100 (ferric carboxymaltose has its own dialysis contraindication);
            // the hard stop and a TSAT at or above 45 % (overload) still caution.
            var dialysisIron = iv is not null && s.Has(ConditionKind.Dialysis) && !string.Equals(iv.Ingredient, "ferric carboxymaltose", StringComparison.OrdinalIgnoreCase);
            var hardStop = ferritin?.AtLeast(t.FerritinHardStop) == true;
            var notIndicated = iv is not null && (hardStop || tsat?.AtLeast(t.TsatIvIronBelow) == true || (!dialysisIron && ferritin?.Above(t.FerritinIvIronMax) == true));
            var evidence = Evidence(s, [ferritin, tsat], since, showAge: false, ironValues: true);
            // Data that guards this order and could not be read: the order is cautioned as not checked (a contraindication
            // wins; a missing phosphate does not make an FCM order wrong, so phosphate is not among these).
            if (reasons.Count == 0 || onlyHardStop)
            {
                var notChecked = NotCheckedFor(s, iv is not null ? Route.Iv : Route.Oral).ToList();
                // An IV order whose only problem is the hard stop has the IV-iron caution (critical) that says so with the
                // labs; with data not checked as well, one caution lists both and stays critical.
                if (notChecked.Count > 0) reasons.AddRange(notChecked);
                else if (onlyHardStop) reasons.Clear();
            }
            if (reasons.Count > 0)
            {
                string? labs = null;
                if (notIndicated)
                {
                    var parts = new List<string>();
                    if (ferritin?.Above(t.FerritinIvIronMax) == true) parts.Add($"ferritin {Value(ferritin)}");
                    if (tsat?.AtLeast(t.TsatIvIronBelow) == true) parts.Add($"TSAT {Value(tsat)}");
                    labs = string.Join(", ", parts);
                }
                yield return new IronOrderContraindicated(order, reasons, labs) { Evidence = evidence };
            }
            else if (notIndicated)
            {
                yield return new IvIronNotIndicated(order, ferritin, tsat, hardStop) { Evidence = evidence };
            }
        }
    }

    // ---- Data that could not be read ---------------------------------------------------------------------------------

    /// <summary>
    /// The needed data read only in part (conditions, medications, iron labs) and the drafts in scope whose drug could
    /// not be identified: a card says so, so that a partial answer never reads as "nothing to worry about". Gaps in
    /// the data that guards iron orders are named in the iron cards they affect instead.
    /// </summary>
    private static DataIncomplete? DataIncomplete(PatientSnapshot s, List<MedicationFact> inScope)
    {
        List<DataGap>? gaps = null;
        foreach (var g in s.Gaps.Each())
        {
            if (g.Area is DataArea.Conditions or DataArea.Medications or DataArea.IronLabs) (gaps ??= []).Add(g);
        }
        List<MedicationFact>? unidentified = null;
        foreach (var m in inScope)
        {
            if (m.Unidentified is not null) (unidentified ??= []).Add(m);
        }
        if (gaps is null && unidentified is null) return null;
        return new DataIncomplete(gaps ?? [], unidentified ?? []) { Evidence = new Evidence([], ShowAge: false, []) };
    }

    // ---- Evidence and caveats ----------------------------------------------------------------------------------------

    /// <summary>
    /// What a card shows it used: the given iron labs (older ones marked as not used), then the recent ferritin, TSAT,
    /// CRP and hemoglobin not already listed; and the caveats: raised CRP (recent), assay differences (when iron values
    /// are shown), a calculated TSAT, skipped results, and optional data the EHR did not give.
    /// </summary>
    private Evidence Evidence(PatientSnapshot s, ReadOnlySpan<LabResult?> ironLabs, DateTimeOffset since, bool showAge, bool ironValues)
    {
        var t = knowledge.Thresholds;
        var labs = new List<ShownLab>(4);
        foreach (var lab in ironLabs)
        {
            if (lab is null || Shows(labs, lab.Analyte)) continue;
            labs.Add(new ShownLab(lab, lab.When < since));
        }
        foreach (var extra in (ReadOnlySpan<Analyte>)[Analyte.Ferritin, Analyte.Tsat, Analyte.Crp, Analyte.Hemoglobin])
        {
            if (Shows(labs, extra) || s.Lab(extra) is not { } lab) continue;
            if (extra is Analyte.Ferritin or Analyte.Tsat && lab.When < since) continue;
            labs.Add(new ShownLab(lab, false));
        }

        var caveats = new List<Caveat>();
        if (s.Lab(Analyte.Crp) is { } crp && crp.Above(t.CrpRaisedAbove) && crp.When >= since) caveats.Add(new Caveat(CaveatKind.CrpRaised, Value(crp)));
        if (ironValues) caveats.Add(new Caveat(CaveatKind.AssayVariation));
        if (s.Lab(Analyte.Tsat) is { Derived: true }) caveats.Add(new Caveat(CaveatKind.DerivedTsat));
        foreach (var skipped in s.Skipped.Each()) caveats.Add(new Caveat(CaveatKind.Skipped, skipped));
        foreach (var gap in s.Gaps.Each())
        {
            if (gap.Area == DataArea.CrpHemoglobin || gap.Area == DataArea.MedicationDetails) caveats.Add(new Caveat(CaveatKind.Unavailable, knowledge.DataAreaNames[gap.Area]));
        }
        return new Evidence(labs, showAge, caveats);
    }

    private static bool Shows(List<ShownLab> labs, Analyte analyte)
    {
        foreach (var l in labs)
        {
            if (l.Lab.Analyte == analyte) return true;
        }
        return false;
    }

    private static LabResult? Recent(LabResult? lab, DateTimeOffset since) => lab is not null && lab.When >= since ? lab : null;

    private static bool Within(DateTimeOffset? when, DateTimeOffset now, int days) => when is { } w && w >= now.AddDays(-days);

    private static string Value(LabResult lab) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{lab.Comparator}{lab.Value:0.##} {lab.Unit}");

    private static string Date(DateTimeOffset when) => when.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static string Origin(MedicationFact m) => m.Origin switch
    {
        MedicationOrigin.Draft => "being ordered",
        MedicationOrigin.ActiveOrder => "active order",
        MedicationOrigin.Statement => "active medication",
        MedicationOrigin.Administration => "given",
        MedicationOrigin.PastOrder => "ordered",
        _ => "taken",
    };

    /// <summary>Where a medication came from, as the OperationOutcome names it.</summary>
    private static string KeyOf(MedicationFact m) => m.Origin switch
    {
        MedicationOrigin.Draft => "context.draftOrders",
        MedicationOrigin.ActiveOrder => "prefetch.medicationRequests",
        _ => "prefetch.medicationStatements",
    };

    private static bool InScope(MedicationFact m, HookKind hook) => hook switch
    {
        HookKind.OrderSelect => m.Origin == MedicationOrigin.Draft && m.IsSelected,
        HookKind.OrderSign => m.Origin == MedicationOrigin.Draft,
        _ => m.IsCurrent && m.Origin != MedicationOrigin.Draft,
    };
}
