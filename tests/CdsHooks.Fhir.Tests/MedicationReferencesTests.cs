namespace CdsHooks.Fhir.Tests;

/// <summary>Which Medication a medicationReference names: the snapshot and the FHIR fallback both ask here.</summary>
public sealed class MedicationReferencesTests
{
    [Theory]
    [InlineData("Medication/42", "Medication/42")]
    [InlineData("https://ehr.example/fhir/Medication/42", "Medication/42")]
    [InlineData("https://ehr.example/fhir/Medication/42/_history/3", "Medication/42/_history/3")] // a version: read as such
    [InlineData("Medication/", null)]
    [InlineData("https://ehr.example/fhir/Medication/", null)]
    [InlineData("https://ehr.example/fhir/ProductMedication/42", null)]
    [InlineData("urn:uuid:5f1c0b2e-8d7a-4a53-9d55-2f3c1b6e7a10", null)]
    [InlineData("Substance/7", null)]
    public void LocalKey_IsMedicationSlashIdOrNothing(string reference, string? expected)
    {
        Assert.Equal(expected, MedicationReferences.LocalKey(reference));
    }

    [Fact]
    public void Resolve_Contained_FullUrl_Relative_AndAbsolute()
    {
        var contained = new Medication { Id = "m1" };
        var bundled = new Medication { Id = "b7" };
        var fromPrefetch = new Medication { Id = "42" };
        var index = new Dictionary<string, Medication>(StringComparer.Ordinal);
        MedicationReferences.Index(index, bundled, "urn:uuid:5f1c0b2e-8d7a-4a53-9d55-2f3c1b6e7a10");
        MedicationReferences.Index(index, fromPrefetch, null);

        Assert.Same(contained, MedicationReferences.Resolve(Use("#m1", contained), index));
        Assert.Same(bundled, MedicationReferences.Resolve(Use("urn:uuid:5f1c0b2e-8d7a-4a53-9d55-2f3c1b6e7a10"), index));
        Assert.Same(bundled, MedicationReferences.Resolve(Use("Medication/b7"), index));
        Assert.Same(fromPrefetch, MedicationReferences.Resolve(Use("https://ehr.example/fhir/Medication/42"), index));
        Assert.Null(MedicationReferences.Resolve(Use("#other", contained), index));
        Assert.Null(MedicationReferences.Resolve(Use("Medication/43"), index));
        Assert.Null(MedicationReferences.Resolve(new MedicationRequest(), index));
    }

    [Fact]
    public void NeededFromServer_IsWhatNothingAtHandResolves_EachOnce()
    {
        var known = new HashSet<string>(StringComparer.Ordinal) { "Medication/42", "urn:uuid:1" };
        var uses = new MedicationUse[]
        {
            Use("#m1", new Medication { Id = "m1" }),
            Use("Medication/42"),
            Use("https://ehr.example/fhir/Medication/42"),
            Use("urn:uuid:1"),
            Use("Medication/43"),
            Use("Medication/43"),
            Use("https://ehr.example/fhir/Medication/44"),
            Use("Substance/7"),
            new MedicationRequest(),
        };

        Assert.Equal(["Medication/43", "https://ehr.example/fhir/Medication/44"], MedicationReferences.NeededFromServer(uses, known));
    }

    private static MedicationRequest Use(string reference, Medication? contained = null) => new()
    {
        MedicationReference = new Reference(reference),
        Contained = contained is null ? null : [contained],
    };
}
