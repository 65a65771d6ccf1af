namespace CdsHooks.Fhir;

/// <summary>
/// The one place that says which Medication a <c>medicationReference</c> names: a contained resource (<c>#id</c>), a
/// Bundle entry by its <c>fullUrl</c>, or <c>Medication/{id}</c> — relative, or the last two segments of an absolute URL
/// on the EHR's server. The snapshot resolves references with it, and the FHIR fallback asks it which references only
/// the server can answer, so the two cannot drift apart.
/// </summary>
public static class MedicationReferences
{
    private const string Prefix = "Medication/";

    /// <summary>Adds the keys <paramref name="medication"/> can be named by: <c>Medication/{id}</c> and its entry's <c>fullUrl</c>.</summary>
    public static void Index(IDictionary<string, Medication> index, Medication medication, string? fullUrl)
    {
        if (medication.Id is not null) index.TryAdd(Prefix + medication.Id, medication);
        if (fullUrl is not null) index.TryAdd(fullUrl, medication);
    }

    /// <summary>The Medication <paramref name="use"/> points at, among its contained resources and <paramref name="index"/>; null when none.</summary>
    public static Medication? Resolve(MedicationUse use, IReadOnlyDictionary<string, Medication> index)
    {
        var reference = use.MedicationReference?.ReferenceValue;
        if (string.IsNullOrEmpty(reference)) return null;
        if (IsContained(reference)) return use.FindContained(reference) as Medication;
        if (index.TryGetValue(reference, out var medication)) return medication;
        return LocalKey(reference) is { } key && index.TryGetValue(key, out medication) ? medication : null;
    }

    /// <summary>
    /// The references among <paramref name="uses"/> that neither a contained resource nor a Medication already at hand
    /// (<paramref name="known"/>: keys as <see cref="Index"/> makes them) resolves, each once: what only the server can answer.
    /// </summary>
    public static List<string> NeededFromServer(IEnumerable<MedicationUse> uses, IReadOnlySet<string> known)
    {
        var needed = new List<string>();
        foreach (var use in uses)
        {
            var reference = use.MedicationReference?.ReferenceValue;
            if (string.IsNullOrEmpty(reference) || IsContained(reference) || known.Contains(reference)) continue;
            if (LocalKey(reference) is not { } key || known.Contains(key) || needed.Contains(reference)) continue;
            needed.Add(reference);
        }
        return needed;
    }

    /// <summary><c>Medication/{id}</c> of a relative or absolute reference; null when it does not name a Medication.</summary>
    public static string? LocalKey(string reference)
    {
        if (reference.StartsWith(Prefix, StringComparison.Ordinal)) return reference.Length > Prefix.Length ? reference : null;
        var i = reference.LastIndexOf("/" + Prefix, StringComparison.Ordinal);
        return i >= 0 && reference.Length > i + 1 + Prefix.Length ? reference[(i + 1)..] : null;
    }

    private static bool IsContained(string reference) => reference[0] == '#';
}
