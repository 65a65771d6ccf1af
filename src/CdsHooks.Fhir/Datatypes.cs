using System.Text.Json.Serialization;

namespace CdsHooks.Fhir;

// FHIR R4 datatypes, only the elements this service reads or writes. Unknown elements are ignored on read.

public sealed class Coding
{
    [JsonConverter(typeof(CommonStringConverter))]
    public string? System { get; set; }
    public string? Version { get; set; }
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Code { get; set; }
    public string? Display { get; set; }

    public Coding() { }

    public Coding(string system, string code, string? display = null)
    {
        System = system;
        Code = code;
        Display = display;
    }
}

public sealed class CodeableConcept
{
    [JsonConverter(typeof(TolerantListConverter<Coding>))]
    public List<Coding>? Coding { get; set; }
    public string? Text { get; set; }

    /// <summary>True when any coding has exactly this system and code.</summary>
    public bool Has(string system, string code)
    {
        if (Coding is null) return false;
        foreach (var c in Coding)
        {
            if (c.Code == code && c.System == system) return true;
        }
        return false;
    }

    /// <summary>The text a person would read: text, else the first display, else the first code.</summary>
    public string? DisplayText()
    {
        if (!string.IsNullOrWhiteSpace(Text)) return Text;
        if (Coding is null) return null;
        foreach (var c in Coding)
        {
            if (!string.IsNullOrWhiteSpace(c.Display)) return c.Display;
        }
        return Coding.Count > 0 ? Coding[0].Code : null;
    }
}

public sealed class Quantity
{
    public decimal? Value { get; set; }
    /// <summary>&lt; | &lt;= | &gt;= | &gt; — how to understand the value.</summary>
    public string? Comparator { get; set; }
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Unit { get; set; }
    [JsonConverter(typeof(CommonStringConverter))]
    public string? System { get; set; }
    [JsonConverter(typeof(CommonStringConverter))]
    public string? Code { get; set; }
}

public sealed class Reference
{
    [JsonPropertyName("reference")]
    public string? ReferenceValue { get; set; }
    public string? Type { get; set; }
    public string? Display { get; set; }

    public Reference() { }

    public Reference(string reference) => ReferenceValue = reference;
}

public sealed class Period
{
    public string? Start { get; set; }
    public string? End { get; set; }
}

public sealed class Identifier
{
    public string? System { get; set; }
    public string? Value { get; set; }
}

public sealed class Annotation
{
    public string? Text { get; set; }
}

public sealed class Meta
{
    public string? VersionId { get; set; }
    public string? LastUpdated { get; set; }
}

public sealed class Dosage
{
    public string? Text { get; set; }
    public string? PatientInstruction { get; set; }
    public CodeableConcept? Route { get; set; }
}

public sealed class Narrative
{
    public string? Status { get; set; }
    public string? Div { get; set; }
}
