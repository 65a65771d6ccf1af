using System.Globalization;
using CdsHooks.Storage;

namespace CdsHooks.Api.Dashboard;

/// <summary>
/// <c>dotnet run --project src/CdsHooks.Api -- demo-data [--weeks N] [--kinds N] [--scale X] [--seed N]</c>: fills an
/// empty store (the configured one: by default the SQLite file under <c>data/</c>) with synthetic card-log and feedback
/// history ending now, so the dashboard has something to show. Refuses a store that already holds cards. The figures
/// are invented: volumes by weekday and hour, adoption growing over the weeks, acceptance and override reasons per card
/// kind in the proportions a governance committee would find plausible. No patient or user data of any kind.
/// </summary>
public static partial class DemoData
{
    public const string Command = "demo-data";
    private const string ReasonSystem = "urn:rls-iron-cds:override-reason";
    private const string Usage = "usage: demo-data [--weeks 1-260 (26)] [--kinds 1-50 (6)] [--scale 0.1-100 (1)] [--seed N (2026)]";

    /// <summary>One card kind's behaviour: cards per weekday, share with feedback, chance of acceptance (start → end), suggestions with weights, override reasons with weights.</summary>
    private sealed record KindProfile(string Kind, string[] Services, double PerDay, double Reported, double AcceptStart, double AcceptEnd,
        (string Key, double Weight)[] Suggestions, (string Code, string Display, double Weight)[] Reasons);

    private static readonly (string Code, string Display, double Weight)[] DrugReasons =
    [
        ("benefit-outweighs-risk", "Benefit outweighs RLS risk; RLS will be monitored", 5),
        ("tolerated-before", "Patient has taken this drug before without RLS worsening", 3),
        ("rls-not-active", "RLS not currently active or diagnosis doubtful", 1.5),
        ("iron-addressed", "Iron status already being addressed", 1),
    ];

    private static readonly string[] AllServices = ["rls-iron-order-select", "rls-iron-order-sign", "rls-iron-patient-view"];
    private static readonly string[] OrderServices = ["rls-iron-order-select", "rls-iron-order-sign"];

    private static readonly KindProfile[] Kinds =
    [
        new("ssri-caution", AllServices, 9, 0.7, 0.14, 0.24, [("remove", 3), ("iron-studies", 2)], DrugReasons),
        new("iron-studies", AllServices, 11, 0.45, 0.48, 0.62, [("iron-studies", 1)], []),
        new("iron-therapy", AllServices, 6, 0.55, 0.42, 0.55, [("oral", 3), ("iv", 2)], []),
        new("aggravating-drug-caution", AllServices, 4, 0.7, 0.22, 0.3, [("remove", 4), ("iron-studies", 1)], DrugReasons),
        new("iv-iron", AllServices, 2.5, 0.5, 0.35, 0.45, [("iv", 2), ("replace-oral", 1)], []),
        new("iv-iron-caution", OrderServices, 1.2, 0.8, 0.3, 0.5, [("remove", 1)],
        [
            ("other-indication", "IV iron is for another indication (CKD, heart failure, anaemia)", 4),
            ("inflammation", "Ferritin raised by inflammation; iron deficiency confirmed otherwise", 2),
            ("specialist-advice", "Given on sleep or hematology specialist advice", 1.5),
        ]),
    ];

    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] == Command;

    public static async Task<int> RunAsync(IServiceProvider services, string[] args)
    {
        if (!TryParse(args, out var weeks, out var kinds, out var scale, out var seed))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }
        var database = services.GetRequiredService<CdsDatabase>();
        var logger = services.GetRequiredService<ILogger<SchemaMigrator>>();
        await new SchemaMigrator(database, logger).MigrateAsync(CancellationToken.None);
        long existing;
        await using (var cardLog = new CardLogStore(database)) existing = await cardLog.CountIssuedAsync(CancellationToken.None);
        if (existing > 0)
        {
            await Console.Error.WriteLineAsync($"The {database.Provider} store at {database.Location} already holds {existing} cards: demo data goes into an empty store only. " +
                "Delete that file, or point Storage__ConnectionString at a new one (e.g. Storage__ConnectionString='Data Source=data/demo.db').");
            return 1;
        }

        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var started = DateTimeOffset.UtcNow;
        var (cards, lockOuts, reports) = await WriteAsync(database, services.GetRequiredService<FeedbackStore>(), Profiles(kinds), now.AddDays(-7 * weeks), now, scale, new Random(seed));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {cards:N0} cards, {lockOuts:N0} lock-outs and {reports:N0} feedback reports ({kinds} card kinds, {weeks} weeks up to {now:yyyy-MM-dd}) to {database.Location} in {(DateTimeOffset.UtcNow - started).TotalSeconds:0.0} s."));
        Console.WriteLine("Start the service with the same settings and open /dashboard (e.g. http://localhost:8080/dashboard).");
        return 0;
    }

    /// <summary>The six card kinds this service issues, then made-up ones (<c>demo-kind-07</c>…) for a larger table.</summary>
    private static IEnumerable<KindProfile> Profiles(int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (i < Kinds.Length) { yield return Kinds[i]; continue; }
            var template = Kinds[i % Kinds.Length];
            yield return template with { Kind = "demo-kind-" + (i + 1).ToString("00", CultureInfo.InvariantCulture), PerDay = 1 + (i * 7 % 10), Reasons = DrugReasons };
        }
    }

    private static async Task<(long Cards, long LockOuts, long Reports)> WriteAsync(CdsDatabase database, FeedbackStore feedback, IEnumerable<KindProfile> profiles, DateTimeOffset from, DateTimeOffset to, double scale, Random random)
    {
        await using var store = new CardLogStore(database);
        var cards = new List<CardLogRecord>(5000);
        var reports = new Dictionary<string, List<FeedbackReport>>(StringComparer.Ordinal);
        long cardCount = 0, reportCount = 0, lockOutCount = 0;
        var totalDays = Math.Max(1, (to - from).TotalDays);

        foreach (var p in profiles)
        {
            for (var day = from.UtcDateTime.Date; day < to.UtcDateTime; day = day.AddDays(1))
            {
                var progress = (day - from.UtcDateTime.Date).TotalDays / totalDays;
                var weekday = day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.35 : 1.0;
                // Adoption: the service reaches more clinicians over the weeks.
                var expected = p.PerDay * scale * weekday * (0.6 + 0.5 * progress);
                var n = Poisson(random, expected);
                for (var i = 0; i < n; i++)
                {
                    var issued = new DateTimeOffset(day, TimeSpan.Zero).AddHours(7 + random.NextDouble() * 12);
                    if (issued >= to) continue;
                    var service = p.Services[random.Next(p.Services.Length)];
                    var suggestionCount = p.Suggestions.Length;
                    var uuids = Enumerable.Range(0, suggestionCount).Select(_ => NewUuid(random)).ToArray();
                    var card = new IssuedCard(NewUuid(random), service, p.Kind, NewUuid(random), issued, uuids) { SuggestionKeys = [.. p.Suggestions.Select(s => s.Key)] };
                    cards.Add(card);
                    if (random.NextDouble() < p.Reported)
                    {
                        var at = issued.AddSeconds(20 + random.NextDouble() * 600);
                        var accept = random.NextDouble() < p.AcceptStart + (p.AcceptEnd - p.AcceptStart) * progress;
                        FeedbackReport report;
                        if (accept && suggestionCount > 0)
                        {
                            report = new FeedbackReport(card.CardUuid, FeedbackOutcome.Accepted, at, [uuids[Pick(random, p.Suggestions.Select(s => s.Weight))]], null);
                        }
                        else
                        {
                            (string Code, string Display, double Weight)? reason = p.Reasons.Length == 0 || random.NextDouble() < 0.15 ? null : p.Reasons[Pick(random, p.Reasons.Select(r => r.Weight))];
                            report = new FeedbackReport(card.CardUuid, FeedbackOutcome.Overridden, at, [],
                                reason is null ? null : new OverrideCode(ReasonSystem, reason.Value.Code, reason.Value.Display));
                            // The same patient seen again within the lock-out: the kind is held back once or twice.
                            for (var seen = random.NextDouble() < 0.5 ? 1 + random.Next(2) : 0; seen > 0; seen--)
                            {
                                var heldBack = at.AddDays(1 + random.NextDouble() * 20);
                                if (heldBack >= to) break;
                                cards.Add(new WithheldCard(NewUuid(random), service, p.Kind, WithholdReason.LockOut, heldBack));
                                lockOutCount++;
                            }
                        }
                        if (!reports.TryGetValue(service, out var list)) reports[service] = list = [];
                        list.Add(report);
                    }
                    if (cards.Count >= 5000) cardCount += await FlushCardsAsync(store, cards);
                    if (reports.Values.Sum(l => l.Count) >= 5000) reportCount += await FlushReportsAsync(feedback, reports, to);
                }
            }
        }
        cardCount += await FlushCardsAsync(store, cards);
        reportCount += await FlushReportsAsync(feedback, reports, to);
        return (cardCount - lockOutCount, lockOutCount, reportCount);
    }

    private static async Task<int> FlushCardsAsync(CardLogStore store, List<CardLogRecord> cards)
    {
        if (cards.Count == 0) return 0;
        var written = await store.AppendAsync(cards, CancellationToken.None);
        cards.Clear();
        return written;
    }

    /// <summary>Stores the queued reports, one transaction per service (the card log is not a foreign key: order does not matter).</summary>
    private static async Task<int> FlushReportsAsync(FeedbackStore store, Dictionary<string, List<FeedbackReport>> reports, DateTimeOffset receivedAt)
    {
        var stored = 0;
        foreach (var (service, list) in reports)
        {
            if (list.Count == 0) continue;
            stored += (await store.SaveAsync(service, list, receivedAt, CancellationToken.None)).Stored;
            list.Clear();
        }
        return stored;
    }

    private static bool TryParse(string[] args, out int weeks, out int kinds, out double scale, out int seed)
    {
        (weeks, kinds, scale, seed) = (26, Kinds.Length, 1.0, 2026);
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            var ok = args[i] switch
            {
                "--weeks" => int.TryParse(value, CultureInfo.InvariantCulture, out weeks) && weeks is >= 1 and <= 260,
                "--kinds" => int.TryParse(value, CultureInfo.InvariantCulture, out kinds) && kinds is >= 1 and <= 50,
                "--scale" => double.TryParse(value, CultureInfo.InvariantCulture, out scale) && scale is >= 0.1 and <= 100,
                "--seed" => int.TryParse(value, CultureInfo.InvariantCulture, out seed),
                _ => false,
            };
            if (!ok) return false;
            i++;
        }
        return true;
    }

    private static int Poisson(Random random, double mean)
    {
        if (mean > 30) return Math.Max(0, (int)Math.Round(mean + Math.Sqrt(mean) * Gaussian(random)));
        var limit = Math.Exp(-mean);
        var k = 0;
        for (var p = random.NextDouble(); p > limit; p *= random.NextDouble()) k++;
        return k;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static int Pick(Random random, IEnumerable<double> weights)
    {
        var w = weights.ToArray();
        var x = random.NextDouble() * w.Sum();
        for (var i = 0; i < w.Length; i++) if ((x -= w[i]) < 0) return i;
        return w.Length - 1;
    }

    private static string NewUuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4 (random), in Guid's little-endian layout
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}
