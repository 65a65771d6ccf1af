using CdsHooks.Protocol;

namespace CdsHooks.Api.Services;

/// <summary>
/// Checks a hook request against CDS Hooks 2.0 and the hook definitions (cds-hooks-library v1.0.1).
/// Returns field -> messages, empty when valid. Field names are JSON paths the client can find.
/// </summary>
public static class RequestValidator
{
    private const int MaxIdLength = 128;

    public static Dictionary<string, string[]> Validate(CdsRequest request, CdsServiceDefinition service)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string field, string message) => errors[field] = errors.TryGetValue(field, out var m) ? [.. m, message] : [message];

        if (string.IsNullOrWhiteSpace(request.Hook))
        {
            Add("hook", "'hook' is required.");
        }
        else if (request.Hook != service.Hook)
        {
            Add("hook", $"Service '{service.Id}' answers the '{service.Hook}' hook, not '{Clip(request.Hook)}'.");
        }

        if (string.IsNullOrWhiteSpace(request.HookInstance))
        {
            Add("hookInstance", "'hookInstance' is required (a UUID for this hook call).");
        }
        else if (!IsSafeId(request.HookInstance))
        {
            Add("hookInstance", "'hookInstance' must be a UUID (at most 128 letters, digits, '-', '.', '_' or ':').");
        }

        if (request.FhirAuthorization is { } auth)
        {
            if (string.IsNullOrWhiteSpace(request.FhirServer)) Add("fhirServer", "'fhirServer' is required when 'fhirAuthorization' is sent.");
            if (string.IsNullOrWhiteSpace(auth.AccessToken)) Add("fhirAuthorization.access_token", "'access_token' is required.");
            // The token goes into an Authorization header: anything but b64token characters could split the header.
            else if (!IsBearerToken(auth.AccessToken)) Add("fhirAuthorization.access_token", "'access_token' must be a bearer token (RFC 6750 §2.1: letters, digits, '-', '.', '_', '~', '+', '/', then '=' padding).");
            if (!string.Equals(auth.TokenType, "Bearer", StringComparison.OrdinalIgnoreCase)) Add("fhirAuthorization.token_type", "'token_type' must be 'Bearer'.");
        }
        if (!string.IsNullOrWhiteSpace(request.FhirServer)
            && (!Uri.TryCreate(request.FhirServer, UriKind.Absolute, out var fhir) || (fhir.Scheme != Uri.UriSchemeHttp && fhir.Scheme != Uri.UriSchemeHttps)))
        {
            Add("fhirServer", "'fhirServer' must be an absolute http(s) URL.");
        }

        var context = request.Context;
        if (context is null)
        {
            Add("context", "'context' is required.");
            return errors;
        }

        if (string.IsNullOrWhiteSpace(context.PatientId)) Add("context.patientId", "'context.patientId' is required.");
        else if (!IsSafeId(context.PatientId)) Add("context.patientId", "'context.patientId' must be a FHIR id.");
        if (string.IsNullOrWhiteSpace(context.UserId)) Add("context.userId", "'context.userId' is required.");

        if (service.Kind is HookKind.OrderSelect or HookKind.OrderSign && context.DraftOrders is null)
        {
            Add("context.draftOrders", $"'context.draftOrders' (a Bundle) is required for {service.Hook}.");
        }

        if (service.Kind == HookKind.OrderSelect)
        {
            if (context.Selections is null || context.Selections.Count == 0)
            {
                Add("context.selections", "'context.selections' is required for order-select and must name at least one draft order.");
            }
            else if (context.DraftOrders is not null)
            {
                var ids = new HashSet<string>(StringComparer.Ordinal);
                foreach (var e in context.DraftOrders.Entry ?? [])
                {
                    if (e.Resource?.TypedId is { } id) ids.Add(id);
                }
                for (int i = 0; i < context.Selections.Count; i++)
                {
                    var selection = context.Selections[i];
                    if (string.IsNullOrWhiteSpace(selection) || !ids.Contains(selection))
                    {
                        Add($"context.selections[{i}]", $"Selection '{Clip(selection ?? "")}' does not match any resource in context.draftOrders (expected 'Type/id').");
                    }
                }
            }
        }

        return errors;
    }

    private static bool IsSafeId(string value)
    {
        if (value.Length > MaxIdLength) return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or ':')) return false;
        }
        return true;
    }

    /// <summary>RFC 6750 §2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".</summary>
    private static bool IsBearerToken(string token)
    {
        var end = token.Length;
        while (end > 0 && token[end - 1] == '=') end--;
        if (end == 0) return false;
        for (int i = 0; i < end; i++)
        {
            var c = token[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/')) return false;
        }
        return true;
    }

    /// <summary>Echo at most a short, single-line piece of client input.</summary>
    private static string Clip(string s)
    {
        var one = s.ReplaceLineEndings(" ");
        return one.Length <= 64 ? one : one[..64] + "…";
    }
}
