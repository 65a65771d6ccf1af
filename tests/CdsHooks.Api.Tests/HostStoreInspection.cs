using CdsHooks.Storage;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests;

/// <summary>Reads the host's own store (SQLite or PostgreSQL) so tests check what was really written.</summary>
public static class HostStoreInspection
{
    public static Task<List<Dictionary<string, object?>>> FeedbackRowsAsync(this CdsServiceHost host, string cardUuid) =>
        StoreInspection.QueryAsync(host.Services.GetRequiredService<CdsDatabase>(), "SELECT * FROM feedback WHERE card_uuid = @card ORDER BY outcome_at, report_detail", ("card", cardUuid));

    public static Task<List<Dictionary<string, object?>>> CardLogRowsAsync(this CdsServiceHost host, string hookInstance) =>
        StoreInspection.QueryAsync(host.Services.GetRequiredService<CdsDatabase>(), "SELECT * FROM card_log WHERE hook_instance = @hook ORDER BY card_kind", ("hook", hookInstance));
}
