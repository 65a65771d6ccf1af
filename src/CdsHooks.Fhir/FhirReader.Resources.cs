using System.Text.Json;

namespace CdsHooks.Fhir;

// The resources of Resources.cs. Each reader starts on the resource's '{' (ResourceJsonConverter has checked it and
// found resourceType, which is then skipped like any element the type does not have) and hands the elements it
// does not have to its base: MedicationUse, then DomainResource, then Resource, which skips what is left.
internal static partial class FhirReader
{
    /// <summary>
    /// Reads a resource of a type this model knows, or returns null when <paramref name="resourceType"/> (the
    /// unescaped UTF-8 type name) is not one. Every known type's name has its own length.
    /// </summary>
    internal static Resource? ReadKnownResource(ref Utf8JsonReader reader, scoped ReadOnlySpan<byte> resourceType) => resourceType.Length switch
    {
        6 when resourceType.SequenceEqual("Bundle"u8) => ReadBundle(ref reader),
        7 when resourceType.SequenceEqual("Patient"u8) => ReadPatient(ref reader),
        9 when resourceType.SequenceEqual("Condition"u8) => ReadCondition(ref reader),
        10 when resourceType.SequenceEqual("Medication"u8) => ReadMedication(ref reader),
        11 when resourceType.SequenceEqual("Observation"u8) => ReadObservation(ref reader),
        14 when resourceType.SequenceEqual("ServiceRequest"u8) => ReadServiceRequest(ref reader),
        15 when resourceType.SequenceEqual("MedicationOrder"u8) => ReadMedicationOrder(ref reader),
        16 when resourceType.SequenceEqual("OperationOutcome"u8) => ReadOperationOutcome(ref reader),
        17 when resourceType.SequenceEqual("MedicationRequest"u8) => ReadMedicationRequest(ref reader),
        18 when resourceType.SequenceEqual("AllergyIntolerance"u8) => ReadAllergyIntolerance(ref reader),
        19 when resourceType.SequenceEqual("MedicationStatement"u8) => ReadMedicationStatement(ref reader),
        24 when resourceType.SequenceEqual("MedicationAdministration"u8) => ReadMedicationAdministration(ref reader),
        _ => null,
    };

    /// <summary>A resource inside another (contained, entry.resource): dispatched on its own resourceType.</summary>
    private static Resource? ReadNestedResource(ref Utf8JsonReader reader, FhirElement element) =>
        reader.TokenType == JsonTokenType.Null ? null : ResourceJsonConverter.ReadResource(ref reader);

    private static void ReadResourceElement(ref Utf8JsonReader reader, FhirElement name, Resource resource)
    {
        switch (name)
        {
            case FhirElement.Id: resource.Id = ReadString(ref reader, name); break;
            case FhirElement.Meta: resource.Meta = ReadMeta(ref reader, name); break;
            default: Skip(ref reader); break;
        }
    }

    private static void ReadDomainResourceElement(ref Utf8JsonReader reader, FhirElement name, DomainResource resource)
    {
        switch (name)
        {
            case FhirElement.Text: resource.Text = ReadNarrative(ref reader, name); break;
            case FhirElement.Contained: resource.Contained = ReadList(ref reader, name, ReadNestedResource); break;
            default: ReadResourceElement(ref reader, name, resource); break;
        }
    }

    private static void ReadMedicationUseElement(ref Utf8JsonReader reader, FhirElement name, MedicationUse use)
    {
        switch (name)
        {
            case FhirElement.Status: use.Status = ReadCommonString(ref reader, name); break;
            case FhirElement.MedicationCodeableConcept: use.MedicationCodeableConcept = ReadCodeableConcept(ref reader, name); break;
            case FhirElement.MedicationReference: use.MedicationReference = ReadReference(ref reader, name); break;
            case FhirElement.Subject: use.Subject = ReadReference(ref reader, name); break;
            default: ReadDomainResourceElement(ref reader, name, use); break;
        }
    }

    /// <summary>Also reads <c>context.draftOrders</c>, which is a Bundle whatever its resourceType says.</summary>
    internal static Bundle ReadBundle(ref Utf8JsonReader reader)
    {
        var bundle = new Bundle();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Type: bundle.Type = ReadCommonString(ref reader, name); break;
                case FhirElement.Total: bundle.Total = ReadInteger(ref reader, name); break;
                case FhirElement.Link: bundle.Link = ReadList(ref reader, name, ReadBundleLink); break;
                case FhirElement.Entry: bundle.Entry = ReadList(ref reader, name, ReadBundleEntry); break;
                default: ReadResourceElement(ref reader, name, bundle); break;
            }
        }
        return bundle;
    }

    private static BundleLink? ReadBundleLink(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var link = new BundleLink();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Relation: link.Relation = ReadString(ref reader, name); break;
                case FhirElement.Url: link.Url = ReadString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return link;
    }

    private static BundleEntry? ReadBundleEntry(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var entry = new BundleEntry();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.FullUrl: entry.FullUrl = ReadString(ref reader, name); break;
                case FhirElement.Resource: entry.Resource = ReadNestedResource(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return entry;
    }

    private static Patient ReadPatient(ref Utf8JsonReader reader)
    {
        var patient = new Patient();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Gender: patient.Gender = ReadString(ref reader, name); break;
                case FhirElement.BirthDate: patient.BirthDate = ReadString(ref reader, name); break;
                case FhirElement.DeceasedBoolean: patient.DeceasedBoolean = ReadBoolean(ref reader, name); break;
                case FhirElement.DeceasedDateTime: patient.DeceasedDateTime = ReadString(ref reader, name); break;
                default: ReadDomainResourceElement(ref reader, name, patient); break;
            }
        }
        return patient;
    }

    private static Observation ReadObservation(ref Utf8JsonReader reader)
    {
        var observation = new Observation();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Status: observation.Status = ReadCommonString(ref reader, name); break;
                case FhirElement.Category: observation.Category = ReadCodeableConcepts(ref reader, name); break;
                case FhirElement.Code: observation.Code = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Subject: observation.Subject = ReadReference(ref reader, name); break;
                case FhirElement.EffectiveDateTime: observation.EffectiveDateTime = ReadString(ref reader, name); break;
                case FhirElement.EffectivePeriod: observation.EffectivePeriod = ReadPeriod(ref reader, name); break;
                case FhirElement.EffectiveInstant: observation.EffectiveInstant = ReadString(ref reader, name); break;
                case FhirElement.Issued: observation.Issued = ReadString(ref reader, name); break;
                case FhirElement.ValueQuantity: observation.ValueQuantity = ReadQuantity(ref reader, name); break;
                case FhirElement.ValueString: observation.ValueString = ReadString(ref reader, name); break;
                case FhirElement.ValueCodeableConcept: observation.ValueCodeableConcept = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.ValueDateTime: observation.ValueDateTime = ReadString(ref reader, name); break;
                case FhirElement.DataAbsentReason: observation.DataAbsentReason = ReadCodeableConcept(ref reader, name); break;
                default: ReadDomainResourceElement(ref reader, name, observation); break;
            }
        }
        return observation;
    }

    private static Condition ReadCondition(ref Utf8JsonReader reader)
    {
        var condition = new Condition();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.ClinicalStatus: condition.ClinicalStatus = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.VerificationStatus: condition.VerificationStatus = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Category: condition.Category = ReadCodeableConcepts(ref reader, name); break;
                case FhirElement.Code: condition.Code = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Subject: condition.Subject = ReadReference(ref reader, name); break;
                case FhirElement.OnsetDateTime: condition.OnsetDateTime = ReadString(ref reader, name); break;
                case FhirElement.OnsetPeriod: condition.OnsetPeriod = ReadPeriod(ref reader, name); break;
                case FhirElement.OnsetString: condition.OnsetString = ReadString(ref reader, name); break;
                case FhirElement.RecordedDate: condition.RecordedDate = ReadString(ref reader, name); break;
                case FhirElement.AbatementDateTime: condition.AbatementDateTime = ReadString(ref reader, name); break;
                case FhirElement.AbatementString: condition.AbatementString = ReadString(ref reader, name); break;
                default: ReadDomainResourceElement(ref reader, name, condition); break;
            }
        }
        return condition;
    }

    private static MedicationRequest ReadMedicationRequest(ref Utf8JsonReader reader)
    {
        var request = new MedicationRequest();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Intent: request.Intent = ReadCommonString(ref reader, name); break;
                case FhirElement.Encounter: request.Encounter = ReadReference(ref reader, name); break;
                case FhirElement.AuthoredOn: request.AuthoredOn = ReadString(ref reader, name); break;
                case FhirElement.DosageInstruction: request.DosageInstruction = ReadList(ref reader, name, ReadDosage); break;
                case FhirElement.ReasonCode: request.ReasonCode = ReadCodeableConcepts(ref reader, name); break;
                case FhirElement.ReasonReference: request.ReasonReference = ReadList(ref reader, name, ReadReference); break;
                case FhirElement.Note: request.Note = ReadList(ref reader, name, ReadAnnotation); break;
                default: ReadMedicationUseElement(ref reader, name, request); break;
            }
        }
        return request;
    }

    /// <summary>
    /// A DSTU2 MedicationOrder into the MedicationRequest shape (see <see cref="MedicationOrder"/>). Its elements only:
    /// <c>subject</c>, <c>authoredOn</c>, <c>intent</c> and <c>reasonCode</c> are not DSTU2 and are skipped, as any
    /// unknown element is, even where a client (the Sandbox adds <c>intent</c>) mixes them in.
    /// </summary>
    private static MedicationOrder ReadMedicationOrder(ref Utf8JsonReader reader)
    {
        var order = new MedicationOrder();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Patient: order.Subject = ReadReference(ref reader, name); break;
                case FhirElement.DateWritten: order.AuthoredOn = ReadString(ref reader, name); break;
                case FhirElement.DosageInstruction: order.DosageInstruction = ReadList(ref reader, name, ReadDosage); break;
                case FhirElement.ReasonCodeableConcept: order.ReasonCode = OneItem(ReadCodeableConcept(ref reader, name)); break;
                case FhirElement.Note: order.Note = OneItem(ReadString(ref reader, name) is { } note ? new Annotation { Text = note } : null); break;
                case FhirElement.Subject: Skip(ref reader); break;
                default: ReadMedicationUseElement(ref reader, name, order); break;
            }
        }
        return order;
    }

    /// <summary>A DSTU2 element of at most one value, held where R4 has a list: null stays null (unset).</summary>
    private static List<T>? OneItem<T>(T? item) where T : class => item is null ? null : [item];

    private static MedicationStatement ReadMedicationStatement(ref Utf8JsonReader reader)
    {
        var statement = new MedicationStatement();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.EffectiveDateTime: statement.EffectiveDateTime = ReadString(ref reader, name); break;
                case FhirElement.EffectivePeriod: statement.EffectivePeriod = ReadPeriod(ref reader, name); break;
                case FhirElement.DateAsserted: statement.DateAsserted = ReadString(ref reader, name); break;
                case FhirElement.Dosage: statement.Dosage = ReadList(ref reader, name, ReadDosage); break;
                default: ReadMedicationUseElement(ref reader, name, statement); break;
            }
        }
        return statement;
    }

    private static MedicationAdministration ReadMedicationAdministration(ref Utf8JsonReader reader)
    {
        var administration = new MedicationAdministration();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.EffectiveDateTime: administration.EffectiveDateTime = ReadString(ref reader, name); break;
                case FhirElement.EffectivePeriod: administration.EffectivePeriod = ReadPeriod(ref reader, name); break;
                default: ReadMedicationUseElement(ref reader, name, administration); break;
            }
        }
        return administration;
    }

    private static AllergyIntolerance ReadAllergyIntolerance(ref Utf8JsonReader reader)
    {
        var allergy = new AllergyIntolerance();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.ClinicalStatus: allergy.ClinicalStatus = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.VerificationStatus: allergy.VerificationStatus = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Type: allergy.Type = ReadCommonString(ref reader, name); break;
                case FhirElement.Category: allergy.Category = ReadList(ref reader, name, ReadStringItem); break;
                case FhirElement.Criticality: allergy.Criticality = ReadCommonString(ref reader, name); break;
                case FhirElement.Code: allergy.Code = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Patient: allergy.Patient = ReadReference(ref reader, name); break;
                case FhirElement.OnsetDateTime: allergy.OnsetDateTime = ReadString(ref reader, name); break;
                case FhirElement.RecordedDate: allergy.RecordedDate = ReadString(ref reader, name); break;
                case FhirElement.LastOccurrence: allergy.LastOccurrence = ReadString(ref reader, name); break;
                case FhirElement.Reaction: allergy.Reaction = ReadList(ref reader, name, ReadAllergyReaction); break;
                default: ReadDomainResourceElement(ref reader, name, allergy); break;
            }
        }
        return allergy;
    }

    private static AllergyReaction? ReadAllergyReaction(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var reaction = new AllergyReaction();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Substance: reaction.Substance = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Manifestation: reaction.Manifestation = ReadCodeableConcepts(ref reader, name); break;
                case FhirElement.Description: reaction.Description = ReadString(ref reader, name); break;
                case FhirElement.Severity: reaction.Severity = ReadCommonString(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return reaction;
    }

    private static Medication ReadMedication(ref Utf8JsonReader reader)
    {
        var medication = new Medication();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Code: medication.Code = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Status: medication.Status = ReadCommonString(ref reader, name); break;
                case FhirElement.Form: medication.Form = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Ingredient: medication.Ingredient = ReadList(ref reader, name, ReadMedicationIngredient); break;
                default: ReadDomainResourceElement(ref reader, name, medication); break;
            }
        }
        return medication;
    }

    private static MedicationIngredient? ReadMedicationIngredient(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var ingredient = new MedicationIngredient();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.ItemCodeableConcept: ingredient.ItemCodeableConcept = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.ItemReference: ingredient.ItemReference = ReadReference(ref reader, name); break;
                case FhirElement.IsActive: ingredient.IsActive = ReadBoolean(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return ingredient;
    }

    private static ServiceRequest ReadServiceRequest(ref Utf8JsonReader reader)
    {
        var request = new ServiceRequest();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Status: request.Status = ReadCommonString(ref reader, name); break;
                case FhirElement.Intent: request.Intent = ReadCommonString(ref reader, name); break;
                case FhirElement.Category: request.Category = ReadCodeableConcepts(ref reader, name); break;
                case FhirElement.Priority: request.Priority = ReadString(ref reader, name); break;
                case FhirElement.Code: request.Code = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Subject: request.Subject = ReadReference(ref reader, name); break;
                case FhirElement.Encounter: request.Encounter = ReadReference(ref reader, name); break;
                case FhirElement.AuthoredOn: request.AuthoredOn = ReadString(ref reader, name); break;
                case FhirElement.Requester: request.Requester = ReadReference(ref reader, name); break;
                case FhirElement.ReasonCode: request.ReasonCode = ReadCodeableConcepts(ref reader, name); break;
                case FhirElement.ReasonReference: request.ReasonReference = ReadList(ref reader, name, ReadReference); break;
                case FhirElement.Note: request.Note = ReadList(ref reader, name, ReadAnnotation); break;
                case FhirElement.PatientInstruction: request.PatientInstruction = ReadString(ref reader, name); break;
                default: ReadDomainResourceElement(ref reader, name, request); break;
            }
        }
        return request;
    }

    private static OperationOutcome ReadOperationOutcome(ref Utf8JsonReader reader)
    {
        var outcome = new OperationOutcome();
        while (NextProperty(ref reader, out var name))
        {
            if (name == FhirElement.Issue) outcome.Issue = ReadList(ref reader, name, ReadOperationOutcomeIssue);
            else ReadDomainResourceElement(ref reader, name, outcome);
        }
        return outcome;
    }

    private static OperationOutcomeIssue? ReadOperationOutcomeIssue(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartObject(ref reader, element)) return null;
        var issue = new OperationOutcomeIssue();
        while (NextProperty(ref reader, out var name))
        {
            switch (name)
            {
                case FhirElement.Severity: issue.Severity = ReadString(ref reader, name); break;
                case FhirElement.Code: issue.Code = ReadString(ref reader, name); break;
                case FhirElement.Details: issue.Details = ReadCodeableConcept(ref reader, name); break;
                case FhirElement.Diagnostics: issue.Diagnostics = ReadString(ref reader, name); break;
                case FhirElement.Expression: issue.Expression = ReadStringList(ref reader, name); break;
                default: Skip(ref reader); break;
            }
        }
        return issue;
    }
}
