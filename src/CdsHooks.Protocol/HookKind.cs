namespace CdsHooks.Protocol;

/// <summary>
/// The CDS Hooks hooks this service answers. Which orders a card may concern follows from it: on
/// <see cref="OrderSelect"/> the selected drafts, on <see cref="OrderSign"/> every draft, on <see cref="PatientView"/>
/// none (patient-level reminders).
/// </summary>
public enum HookKind
{
    /// <summary><c>patient-view</c>: the chart is opened.</summary>
    PatientView,

    /// <summary><c>order-select</c>: a clinician selects orders (<c>context.selections</c> among <c>context.draftOrders</c>).</summary>
    OrderSelect,

    /// <summary><c>order-sign</c>: a clinician is about to sign <c>context.draftOrders</c>.</summary>
    OrderSign,
}
