using CdsHooks.Fhir;
using CdsHooks.Protocol;

namespace CdsHooks.Api.Services;

/// <summary>The five states a prefetch key can arrive in (CDS Hooks 2.0 §Prefetch), kept apart.</summary>
public enum PrefetchState
{
    /// <summary>The whole prefetch object, or this key, was not sent: the client did not or could not fetch.</summary>
    Absent,
    /// <summary>The key was sent as null: the client has no data. An answer, not a gap.</summary>
    NoData,
    /// <summary>A resource or Bundle. <see cref="PrefetchEntry.NextPage"/> is set when the Bundle is paged.</summary>
    Data,
    /// <summary>An OperationOutcome: the client's own fetch failed.</summary>
    Failed,
}

public sealed record PrefetchEntry(PrefetchKey Key, PrefetchState State, IReadOnlyList<Resource> Resources, string? NextPage = null)
{
    /// <summary>Absent or failed keys must be fetched from the FHIR server; paged ones need their further pages.</summary>
    public bool NeedsFetch => State is PrefetchState.Absent or PrefetchState.Failed;
}

/// <summary>Sorts the request's prefetch into the service's keys and their states.</summary>
public static class PrefetchResolver
{
    public static Dictionary<string, PrefetchEntry> Resolve(CdsRequest request, CdsServiceDefinition service)
    {
        var entries = new Dictionary<string, PrefetchEntry>(StringComparer.Ordinal);
        foreach (var key in service.Prefetch)
        {
            entries[key.Name] = Classify(key, request.Prefetch);
        }
        return entries;
    }

    public static PrefetchEntry Classify(PrefetchKey key, Dictionary<string, Resource?>? prefetch)
    {
        if (prefetch is null || !prefetch.TryGetValue(key.Name, out var value)) return new(key, PrefetchState.Absent, []);
        return value switch
        {
            null => new(key, PrefetchState.NoData, []),
            OperationOutcome => new(key, PrefetchState.Failed, []),
            Bundle bundle => new(key, PrefetchState.Data, Flatten(bundle), bundle.NextLink()),
            _ => new(key, PrefetchState.Data, [value]),
        };
    }

    /// <summary>Resources of a search Bundle, without the OperationOutcomes a server may add as search warnings.</summary>
    public static List<Resource> Flatten(Bundle bundle)
    {
        var list = new List<Resource>(bundle.Entry?.Count ?? 0);
        foreach (var e in bundle.Entry ?? [])
        {
            if (e.Resource is not null and not OperationOutcome) list.Add(e.Resource);
        }
        return list;
    }
}
