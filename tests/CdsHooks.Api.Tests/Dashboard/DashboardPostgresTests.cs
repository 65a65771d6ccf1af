using CdsHooks.Api.Tests.Storage;
using CdsHooks.Storage;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Dashboard;

/// <summary>The card report's SQL on the real PostgreSQL (weekly buckets by integer division, the LEFT JOIN fold, the service filter).</summary>
public sealed class DashboardPostgresTests(PostgresHost host) : IClassFixture<PostgresHost>
{
    [RequiresPostgresFact]
    public async Task Report_OnPostgres_HasTheSameFiguresAsOnSqlite()
    {
        _ = host.Client;
        await DashboardSeed.WriteAsync(host.Services);
        var query = host.Services.GetRequiredService<CardReportQuery>();
        var to = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

        var report = await query.RunAsync(to.AddDays(-90), to, null, [], 5, CancellationToken.None);

        var therapy = report.CardKinds.Single(k => k.CardKind == "iron-therapy");
        Assert.Equal((55, 19, 8, 0.7037), (therapy.Issued, therapy.Accepted, therapy.Overridden, therapy.AcceptanceRate!.Value));
        Assert.Equal(55, therapy.Weekly.Sum(w => w.Issued));
        Assert.Equal((1, 1), (therapy.Weekly[^1].Issued, therapy.Weekly[^1].Accepted));
        Assert.Equal(["iv", "oral"], therapy.SuggestionsAccepted.Select(s => s.Key));
        Assert.Equal(["benefit-outweighs-risk", "tolerated-before"], report.CardKinds.Single(k => k.CardKind == "ssri-caution").OverrideReasons.Select(r => r.Code));
        Assert.Equal(1, report.UnmatchedFeedback.Accepted);

        var sign = await query.RunAsync(to.AddDays(-90), to, "rls-iron-order-sign", [], 5, CancellationToken.None);
        Assert.Equal(["ssri-caution"], sign.CardKinds.Select(k => k.CardKind));
        Assert.Equal(0, sign.UnmatchedFeedback.Accepted);
    }
}
