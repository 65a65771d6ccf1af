using CdsHooks.Protocol;
using CdsHooks.Rls.Cards;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls;

/// <summary>The clinical pipeline in one call: record -> snapshot -> findings -> cards.</summary>
public sealed class RlsAdvisor(RlsKnowledge knowledge)
{
    private readonly SnapshotBuilder _snapshots = new(knowledge);
    private readonly RlsRules _rules = new(knowledge);
    private readonly CardBuilder _cards = new(knowledge);

    public RlsKnowledge Knowledge => knowledge;

    public PatientSnapshot Snapshot(PatientRecord record, DateTimeOffset now) => _snapshots.Build(record, now);

    public IReadOnlyList<Finding> Findings(PatientSnapshot snapshot, HookKind hook) => _rules.Evaluate(snapshot, hook);

    public List<Card> Advise(PatientRecord record, CardContext context, DateTimeOffset now)
    {
        var snapshot = _snapshots.Build(record, now);
        var findings = _rules.Evaluate(snapshot, context.Hook);
        return findings.Count == 0 ? [] : _cards.Build(findings, snapshot, context);
    }
}
