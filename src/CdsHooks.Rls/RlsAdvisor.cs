using CdsHooks.Protocol;
using CdsHooks.Rls.Cards;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls;

/// <summary>
/// The answer to one hook call: cards, or (when <see cref="Unresolved"/> is not empty) the data without which nothing
/// useful can be said, which the host turns into a 412 OperationOutcome.
/// </summary>
public sealed record Advice(List<Card> Cards, IReadOnlyList<DataGap> Unresolved);

/// <summary>The clinical pipeline in one call: record -> snapshot -> findings -> cards.</summary>
public sealed class RlsAdvisor(RlsKnowledge knowledge)
{
    private readonly SnapshotBuilder _snapshots = new(knowledge);
    private readonly RlsRules _rules = new(knowledge);
    private readonly CardBuilder _cards = new(knowledge);

    public RlsKnowledge Knowledge => knowledge;

    public PatientSnapshot Snapshot(PatientRecord record, DateTimeOffset now) => _snapshots.Build(record, now);

    public Assessment Assess(PatientSnapshot snapshot, HookKind hook) => _rules.Evaluate(snapshot, hook);

    public Advice Advise(PatientRecord record, CardContext context, DateTimeOffset now)
    {
        var snapshot = _snapshots.Build(record, now);
        var assessment = _rules.Evaluate(snapshot, context.Hook);
        if (assessment.Unresolved.Count > 0) return new Advice([], assessment.Unresolved);
        return new Advice(assessment.Findings.Count == 0 ? [] : _cards.Build(assessment.Findings, snapshot, context), []);
    }
}
