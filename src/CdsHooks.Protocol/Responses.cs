using System.Text.Json.Serialization;
using CdsHooks.Fhir;

namespace CdsHooks.Protocol;

/// <summary>The service's answer. <c>{"cards": []}</c> means "no guidance" and is always written.</summary>
public sealed class CdsResponse
{
    public List<Card> Cards { get; set; } = [];
    public List<CdsAction>? SystemActions { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<Indicator>))]
public enum Indicator
{
    [JsonStringEnumMemberName("info")] Info,
    [JsonStringEnumMemberName("warning")] Warning,
    [JsonStringEnumMemberName("critical")] Critical,
}

[JsonConverter(typeof(JsonStringEnumConverter<SelectionBehavior>))]
public enum SelectionBehavior
{
    [JsonStringEnumMemberName("at-most-one")] AtMostOne,
    [JsonStringEnumMemberName("any")] Any,
}

[JsonConverter(typeof(JsonStringEnumConverter<ActionType>))]
public enum ActionType
{
    [JsonStringEnumMemberName("create")] Create,
    [JsonStringEnumMemberName("update")] Update,
    [JsonStringEnumMemberName("delete")] Delete,
}

[JsonConverter(typeof(JsonStringEnumConverter<LinkType>))]
public enum LinkType
{
    [JsonStringEnumMemberName("absolute")] Absolute,
    [JsonStringEnumMemberName("smart")] Smart,
}

public sealed class Card
{
    public string? Uuid { get; set; }
    /// <summary>Under 140 characters (spec).</summary>
    public required string Summary { get; set; }
    /// <summary>GitHub-flavoured Markdown.</summary>
    public string? Detail { get; set; }
    public required Indicator Indicator { get; set; }
    public required CardSource Source { get; set; }
    public List<Suggestion>? Suggestions { get; set; }
    /// <summary>Required whenever <see cref="Suggestions"/> is present.</summary>
    public SelectionBehavior? SelectionBehavior { get; set; }
    public List<Coding>? OverrideReasons { get; set; }
    public List<Link>? Links { get; set; }

    /// <summary>
    /// Not sent: true when the card is about a draft order being placed (a caution on a contraindicated or
    /// RLS-aggravating order). Such a card is shown again whenever the order is, whatever an earlier override said;
    /// reminders about the patient (iron studies, iron therapy) are not about a draft and can be locked out.
    /// </summary>
    [JsonIgnore]
    public bool AboutDraftOrder { get; set; }

    /// <summary>
    /// Not sent: true when the card says what this call's data could not tell (data the EHR did not return in full, a
    /// draft whose drug cannot be identified). Like a caution on a draft, it is shown on every call that has the gap: held
    /// back as a repeat it would leave an answer that reads as "nothing to worry about".
    /// </summary>
    [JsonIgnore]
    public bool AboutMissingData { get; set; }
}

public sealed class CardSource
{
    public required string Label { get; set; }
    public string? Url { get; set; }
    public string? Icon { get; set; }
    public Coding? Topic { get; set; }
}

public sealed class Suggestion
{
    public required string Label { get; set; }
    public string? Uuid { get; set; }
    public bool? IsRecommended { get; set; }
    public List<CdsAction>? Actions { get; set; }

    /// <summary>
    /// Not sent: a stable code for what the suggestion does within its card kind (e.g. <c>iv</c>, <c>oral</c>,
    /// <c>remove</c>, <c>iron-studies</c>). The uuid changes with every hookInstance and the label with the wording;
    /// the card log keeps this key so analytics can say which action clinicians take across calls and rewordings.
    /// Lower-case letters, digits and '-' only; unique within a card.
    /// </summary>
    [JsonIgnore]
    public string? Key { get; set; }
}

public sealed class CdsAction
{
    public required ActionType Type { get; set; }
    public required string Description { get; set; }
    public Resource? Resource { get; set; }
    /// <summary>"Type/id" of the resource to delete (delete actions only).</summary>
    public string? ResourceId { get; set; }
}

public sealed class Link
{
    public required string Label { get; set; }
    public required string Url { get; set; }
    public required LinkType Type { get; set; }
    public string? AppContext { get; set; }
}
