using System.Data.Common;
using CdsHooks.Storage;

namespace CdsHooks.Testing;

/// <summary>Reads a store (SQLite or PostgreSQL) so tests check what was really written.</summary>
public static class StoreInspection
{
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
