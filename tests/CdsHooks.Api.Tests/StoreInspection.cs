using System.Data.Common;
using CdsHooks.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests;

/// <summary>Reads the host's own store (SQLite or PostgreSQL) so tests check what was really written.</summary>
public static class StoreInspection
{
    public static Task<List<Dictionary<string, object?>>> FeedbackRowsAsync(this CdsServiceHost host, string cardUuid) =>
        QueryAsync(host.Services.GetRequiredService<CdsDatabase>(), "SELECT * FROM feedback WHERE card_uuid = @card ORDER BY outcome_at, report_detail", ("card", cardUuid));

    public static Task<List<Dictionary<string, object?>>> CardLogRowsAsync(this CdsServiceHost host, string hookInstance) =>
        QueryAsync(host.Services.GetRequiredService<CdsDatabase>(), "SELECT * FROM card_log WHERE hook_instance = @hook ORDER BY card_kind", ("hook", hookInstance));

    public static async Task<List<Dictionary<string, object?>>> QueryAsync(CdsDatabase database, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            command.Parameters.Add(p);
        }
        await using DbDataReader reader = await command.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }
}
