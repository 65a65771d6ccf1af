using System.Text.Json;

namespace CdsHooks.Fhir;

// The datatypes of Datatypes.cs. Each reader takes the element it is read for (for error messages), returns null
// for JSON null and reads the strings marked [JsonConverter(typeof(CommonStringConverter))] as shared ones.
// Identifier has no reader: no element of this model holds one.
internal static partial class FhirReader
{
    private static Coding? ReadCoding(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var coding = new Coding();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.System: coding.System = ReadCommonString(ref reader, name); break;
                case FhirElement.Version: coding.Version = ReadString(ref reader, name); break;
                case FhirElement.Code: coding.Code = ReadCommonString(ref reader, name); break;
                case FhirElement.Display: coding.Display = ReadString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return coding;
    }

    private static CodeableConcept? ReadCodeableConcept(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var concept = new CodeableConcept();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Coding: concept.Coding = ReadList(ref reader, name, ReadCoding); break;
                case FhirElement.Text: concept.Text = ReadString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return concept;
    }

    private static List<CodeableConcept>? ReadCodeableConcepts(ref Utf8JsonReader reader, FhirElement element) =>
        ReadList(ref reader, element, ReadCodeableConcept);

    private static Quantity? ReadQuantity(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var quantity = new Quantity();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Value: quantity.Value = ReadDecimal(ref reader, name); break;
                case FhirElement.Comparator: quantity.Comparator = ReadString(ref reader, name); break;
                case FhirElement.Unit: quantity.Unit = ReadCommonString(ref reader, name); break;
                case FhirElement.System: quantity.System = ReadCommonString(ref reader, name); break;
                case FhirElement.Code: quantity.Code = ReadCommonString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return quantity;
    }

    private static Reference? ReadReference(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var reference = new Reference();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Reference: reference.ReferenceValue = ReadString(ref reader, name); break;
                case FhirElement.Type: reference.Type = ReadString(ref reader, name); break;
                case FhirElement.Display: reference.Display = ReadString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return reference;
    }

    private static Period? ReadPeriod(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var period = new Period();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Start: period.Start = ReadString(ref reader, name); break;
                case FhirElement.End: period.End = ReadString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return period;
    }

    private static Annotation? ReadAnnotation(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var annotation = new Annotation();
        while (NextProperty(ref reader, out var name))
        {
            if (name == FhirElement.Text) annotation.Text = ReadString(ref reader, name);
            else Skip(ref reader);
        }
        return annotation;
    }

    private static Meta? ReadMeta(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var meta = new Meta();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.VersionId: meta.VersionId = ReadString(ref reader, name); break;
                case FhirElement.LastUpdated: meta.LastUpdated = ReadString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return meta;
    }

    private static Dosage? ReadDosage(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var dosage = new Dosage();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Text: dosage.Text = ReadString(ref reader, name); break;
                case FhirElement.PatientInstruction: dosage.PatientInstruction = ReadString(ref reader, name); break;
                case FhirElement.Route: dosage.Route = ReadCodeableConcept(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return dosage;
    }

    private static Narrative? ReadNarrative(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var narrative = new Narrative();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Status: narrative.Status = ReadString(ref reader, name); break;
                case FhirElement.Div: narrative.Div = ReadString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return narrative;
    }
}
