using CdsHooks.Api.Analytics;
using CdsHooks.Api.Feedback;
using CdsHooks.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Dashboard;

/// <summary>
/// A known card-log and feedback history around the hosts' fixed clock (2026-11-21T12:00Z, a Saturday; the default
/// 90-day period is 2026-08-24 – 2026-11-21, 13 weeks from Monday 2026-08-24):
/// <list type="bullet">
/// <item>iron-therapy (order-select): w+1 cards on 2026-11-20 minus w weeks, w = 0..9 (55); per week one accepted "iv"
/// (10), one accepted "oral" (9, from w = 1), one overridden "iron-addressed" (8, from w = 2): rate 19/27.</item>
/// <item>ssri-caution (order-sign): 20 cards on 2026-11-10; 5 accepted "remove", 2 "iron-studies", 8 overridden
/// "benefit-outweighs-risk", 3 "tolerated-before", 2 unreported: rate 7/18.</item>
/// <item>iron-studies (patient-view): 12 cards on 2026-07-01, before the default period, with no suggestion key
/// recorded (named "#1"); 6 accepted.</item>
/// <item>one accepted report (order-select, 2026-11-20) on a card the log never saw.</item>
/// <item>held back: iron-therapy 3 lock-outs in the period (and 1 on 2026-07-01, before it), 2 repeated reminders
/// (not lock-outs); ssri-caution none; iv-iron-caution 1 lock-out in the period and no card issued.</item>
/// </list>
/// </summary>
public static class DashboardSeed
{
    public const string ReasonSystem = "urn:rls-iron-cds:override-reason";

    public static async Task WriteAsync(IServiceProvider services)
    {
        var database = services.GetRequiredService<CdsDatabase>();
        var feedback = services.GetRequiredService<FeedbackStore>();
        await using var cardLog = new CardLogStore(database);
        var cards = new List<CardLogRecord>();
        var reports = new Dictionary<string, List<FeedbackReport>>();
        void Report(string service, FeedbackReport report)
        {
            if (!reports.TryGetValue(service, out var list)) reports[service] = list = [];
            list.Add(report);
        }

        var friday = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);
        for (var w = 0; w < 10; w++)
        {
            for (var i = 0; i <= w; i++)
            {
                var at = friday.AddDays(-7 * w).AddMinutes(i);
                var card = Card("rls-iron-order-select", "iron-therapy", at, "iv", "oral");
                cards.Add(card);
                if (i == 0) Report(card.ServiceId, Accepted(card, 0, at));
                if (i == 1) Report(card.ServiceId, Accepted(card, 1, at));
                if (i == 2) Report(card.ServiceId, Overridden(card, "iron-addressed", at));
            }
        }

        var tenth = new DateTimeOffset(2026, 11, 10, 9, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 20; i++)
        {
            var at = tenth.AddMinutes(i);
            var card = Card("rls-iron-order-sign", "ssri-caution", at, "remove", "iron-studies");
            cards.Add(card);
            if (i < 5) Report(card.ServiceId, Accepted(card, 0, at));
            else if (i < 7) Report(card.ServiceId, Accepted(card, 1, at));
            else if (i < 15) Report(card.ServiceId, Overridden(card, "benefit-outweighs-risk", at));
            else if (i < 18) Report(card.ServiceId, Overridden(card, "tolerated-before", at));
        }

        var july = new DateTimeOffset(2026, 7, 1, 8, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 12; i++)
        {
            var at = july.AddMinutes(i);
            var card = Card("rls-iron-patient-view", "iron-studies", at, "iron-studies") with { SuggestionKeys = [] };
            cards.Add(card);
            if (i < 6) Report(card.ServiceId, Accepted(card, 0, at));
        }

        // Feedback on a card this store never logged (another node's): counted apart.
        Report("rls-iron-order-select", new FeedbackReport(Guid.NewGuid().ToString(), FeedbackOutcome.Accepted, friday, [Guid.NewGuid().ToString()], null));

        for (var i = 0; i < 3; i++) cards.Add(Withheld("rls-iron-order-select", "iron-therapy", WithholdReason.LockOut, friday.AddDays(-i)));
        cards.Add(Withheld("rls-iron-order-select", "iron-therapy", WithholdReason.LockOut, july));
        for (var i = 0; i < 2; i++) cards.Add(Withheld("rls-iron-patient-view", "iron-therapy", WithholdReason.Repeat, friday.AddHours(-i)));
        cards.Add(Withheld("rls-iron-order-select", "iv-iron-caution", WithholdReason.LockOut, tenth));

        await cardLog.AppendAsync(cards, CancellationToken.None);
        foreach (var (service, list) in reports) await feedback.SaveAsync(service, list, friday, CancellationToken.None);
    }

    private static IssuedCard Card(string service, string kind, DateTimeOffset at, params string[] keys) =>
        new(Guid.NewGuid().ToString(), service, kind, Guid.NewGuid().ToString(), at, [.. keys.Select(_ => Guid.NewGuid().ToString())]) { SuggestionKeys = keys };

    private static WithheldCard Withheld(string service, string kind, WithholdReason reason, DateTimeOffset at) =>
        new(Guid.NewGuid().ToString(), service, kind, reason, at);

    private static FeedbackReport Accepted(IssuedCard card, int suggestion, DateTimeOffset at) =>
        new(card.CardUuid, FeedbackOutcome.Accepted, at.AddMinutes(2), [card.SuggestionUuids[suggestion]], null);

    private static FeedbackReport Overridden(IssuedCard card, string code, DateTimeOffset at) =>
        new(card.CardUuid, FeedbackOutcome.Overridden, at.AddMinutes(3), [], new OverrideCode(ReasonSystem, code, "Display of " + code));
}

/// <summary>A host with the operator key set and the seeded history, started once per test class.</summary>
public class DashboardHost : CdsServiceHost
{
    public const string OperatorKey = "dashboard-operator-key-0123456789";
    private readonly Lazy<Task> _seeded;

    public DashboardHost() => _seeded = new(() => DashboardSeed.WriteAsync(Services));

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        base.Settings.Concat([
            KeyValuePair.Create<string, string?>("Analytics:ApiKey", OperatorKey),
            // Every test signs in afresh; the limit itself is tested on a host of its own.
            KeyValuePair.Create<string, string?>("Dashboard:LoginAttemptsPerMinute", "1000"),
        ]);

    /// <summary>Starts the host and writes the seed (once).</summary>
    public async Task<Uri> ReadyAsync()
    {
        _ = Client;
        await _seeded.Value;
        return BaseAddress;
    }
}
