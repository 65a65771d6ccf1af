using System.Text;
using Hl7.Fhir.Utility;
using Hl7.Fhir.Validation;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// The service's FHIR reader against the Firely SDK, on every fixture request, every spec example and rewritten
/// variants of them: the fields the rules use (<see cref="RuleFields"/>) must come out the same from both. Where the
/// input is not conformant FHIR, Firely reads it leniently and its strict refusal must be a documented tolerance
/// (<see cref="DeliberateTolerances"/>).
/// </summary>
public sealed class DifferentialParsingTests
{
    public static TheoryData<string> Requests() => [.. HookRequests.Names()];

    public static TheoryData<string> VariantKinds() => [.. RequestVariants.Kinds.Select(k => k.Name)];

    public static TheoryData<string> Decimals() => [.. RequestVariants.Decimals];

    [Fact]
    public void Corpus_HoldsEveryFixtureRequestAndTheSpecExamples_WithResourcesOfEveryRuleType()
    {
        var names = HookRequests.Names().ToList();
        var types = names.SelectMany(n => Compare(HookRequests.Read(n), n).Fields).Select(f => f.ResourceType).ToHashSet();

        Assert.Equal(Directory.GetFiles(Testing.FixtureFiles.FixturePath("requests"), "*.json").Length, names.Count(n => n.StartsWith("requests/", StringComparison.Ordinal)));
        Assert.Equal(7, names.Count(n => n.StartsWith(HookRequests.SpecExamples, StringComparison.Ordinal)));
        Assert.Superset(RuleText.RuleResourceTypes.ToHashSet(), types);
    }

    /// <summary>Each rule field, and a comparator, is set somewhere: a field no input sets would be compared in vain.</summary>
    [Fact]
    public void CorpusAndVariants_SetEveryRuleField()
    {
        var fields = new List<RuleFields>();
        foreach (var name in HookRequests.Names())
        {
            var original = HookRequests.Read(name);
            fields.AddRange(Compare(original, name).Service);
            foreach (var kind in RequestVariants.Kinds)
            {
                if (RequestVariants.Apply(original, kind) is { } variant) fields.AddRange(Compare(variant, name).Service);
            }
        }

        foreach (var property in typeof(RuleFields).GetProperties().Where(p => p.Name != "EqualityContract"))
        {
            Assert.True(fields.Exists(f => property.GetValue(f) is not null), $"No input sets {property.Name}.");
        }
        Assert.Contains(fields, f => f.ValueQuantity?.StartsWith('<') == true);
        Assert.Contains(fields, f => f.Effective?.StartsWith("period", StringComparison.Ordinal) == true);
        Assert.Contains(fields, f => f.Medication?.StartsWith("reference", StringComparison.Ordinal) == true);
        Assert.Contains(fields, f => f.Path.Contains("contained", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public void Request_RuleFields_SameFromServiceAndFirely(string name)
    {
        var comparison = Compare(HookRequests.Read(name), name);

        comparison.AssertSame();
        foreach (var (path, issue) in comparison.StrictIssues)
        {
            Assert.True(DeliberateTolerances.For(path, issue) is not null,
                $"{name} {path}: Firely's strict reading refuses it and no documented tolerance covers that: {FirelyOracle.Describe(issue)}");
        }
    }

    [Fact]
    public void DeliberateTolerances_EachIsNeededByRealInput()
    {
        var issues = HookRequests.Names().SelectMany(n => Compare(HookRequests.Read(n), n).StrictIssues).ToList();

        foreach (var tolerance in DeliberateTolerances.All)
        {
            Assert.True(issues.Exists(i => tolerance.Covers(i.Path, i.Issue)), $"No fixture or spec example needs the tolerance {tolerance} any more: remove it.");
        }
    }

    [Theory]
    [MemberData(nameof(VariantKinds))]
    public void Variant_RuleFields_SameFromServiceAndFirely_AndAsInTheOriginal(string kindName)
    {
        var kind = RequestVariants.Kinds.Single(k => k.Name == kindName);
        var variants = 0;
        var refusedAsExpected = 0;
        var firelyCannotRead = 0;
        foreach (var name in HookRequests.Names())
        {
            var original = HookRequests.Read(name);
            if (RequestVariants.Apply(original, kind) is not { } variant) continue;
            variants++;
            var label = $"{name} ({kind})";
            var comparison = Compare(variant, label);

            if (kind.FirelyLeavesItInOverflow)
            {
                // Asserted, so that a Firely that starts reading these is noticed and compared directly.
                if (comparison.FirelyFailures.Count > 0) firelyCannotRead++;
            }
            else
            {
                comparison.AssertSame();
            }
            if (kind.PreservesRuleFields)
            {
                // The rewrite changes nothing the rules read: the service reads the variant as Firely read the original.
                Assert.Equal(Compare(original, name).Firely, comparison.Service);
            }
            else
            {
                Assert.NotEqual(Compare(original, name).Firely, comparison.Firely);
            }
            var originalConformant = Compare(original, name).StrictIssues.Count == 0;
            if (kind.Conformant && originalConformant)
            {
                Assert.True(comparison.StrictIssues.Count == 0, $"{label}: Firely refuses a conformant rewrite: {comparison.DescribeIssues()}");
            }
            if (!kind.Conformant)
            {
                // Strict FHIR refuses it and the service reads it anyway: a deliberate tolerance, listed.
                if (comparison.StrictIssues.Exists(i => i.Issue.ErrorCode == kind.FirelyIssue)) refusedAsExpected++;
                foreach (var (path, issue) in comparison.StrictIssues)
                {
                    Assert.True(DeliberateTolerances.For(path, issue) is not null, $"{label} {path}: {FirelyOracle.Describe(issue)}");
                }
            }
        }
        Assert.True(variants >= 10, $"only {variants} requests had anything to rewrite");
        if (!kind.Conformant) Assert.Equal(variants, refusedAsExpected);
        if (kind.FirelyLeavesItInOverflow) Assert.True(firelyCannotRead > 0, $"Firely now reads {kind} itself: compare it directly.");
    }

    [Theory]
    [MemberData(nameof(Decimals))]
    public void ValueQuantity_WrittenWithManyDigitsOrAnExponent_SameFromServiceAndFirely(string number)
    {
        var variants = 0;
        foreach (var name in HookRequests.Names())
        {
            if (RequestVariants.WithDecimal(HookRequests.Read(name), number) is not { } variant) continue;
            variants++;
            Compare(variant, $"{name} (valueQuantity.value {number})").AssertSame();
        }
        Assert.True(variants >= 10, $"only {variants} requests have a valueQuantity");
    }

    /// <summary>Both readings of one request: the service's whole-request parse and Firely per resource.</summary>
    private static Comparison Compare(string requestJson, string label)
    {
        var service = HookRequests.OfService(requestJson);
        var raw = HookRequests.RawResources(requestJson);
        Assert.Equal(raw.Select(r => r.Path), service.Select(s => s.Path));

        var comparison = new Comparison(label);
        for (int i = 0; i < raw.Count; i++)
        {
            var (path, json) = raw[i];
            var firely = FirelyOracle.Read(json);
            comparison.StrictIssues.AddRange(firely.StrictIssues.Select(issue => (path, issue)));
            comparison.Service.AddRange(ServiceRuleFields.Of(service[i].Resource, path));
            try
            {
                if (firely.Resource is null) comparison.FirelyFailures.Add($"{path}: Firely cannot read it even leniently");
                else comparison.Firely.AddRange(FirelyRuleFields.Of(firely.Resource, path).ToList());
            }
            catch (CodedValidationException ex)
            {
                comparison.FirelyFailures.Add($"{path}: Firely's model throws when read: {FirelyOracle.Describe(ex)}");
            }
        }
        return comparison;
    }

    private sealed record Comparison(string Label)
    {
        public List<RuleFields> Firely { get; } = [];
        public List<RuleFields> Service { get; } = [];
        public List<(string Path, CodedException Issue)> StrictIssues { get; } = [];
        /// <summary>Resources whose rule fields Firely could not give (so <see cref="Firely"/> lacks them).</summary>
        public List<string> FirelyFailures { get; } = [];

        public IEnumerable<RuleFields> Fields => Service;

        public string DescribeIssues() => string.Join("; ", StrictIssues.Select(i => $"{i.Path} {FirelyOracle.Describe(i.Issue)}"));

        /// <summary>Fails naming each resource whose rule fields differ, with both readings.</summary>
        public void AssertSame()
        {
            Assert.True(FirelyFailures.Count == 0, $"{Label}: {string.Join("; ", FirelyFailures)}");
            if (Firely.SequenceEqual(Service)) return;
            var message = new StringBuilder($"{Label}: the service and Firely read different rule fields\n");
            for (int i = 0; i < Math.Max(Firely.Count, Service.Count); i++)
            {
                var firely = i < Firely.Count ? Firely[i] : null;
                var service = i < Service.Count ? Service[i] : null;
                if (firely == service) continue;
                var differing = typeof(RuleFields).GetProperties().Where(p => firely is null || service is null || !Equals(p.GetValue(firely), p.GetValue(service)));
                message.Append("  differs in ").Append(string.Join(", ", differing.Select(p => p.Name))).Append(":\n");
                message.Append("  Firely:  ").Append(firely?.ToString() ?? "(nothing)").Append('\n');
                message.Append("  service: ").Append(service?.ToString() ?? "(nothing)").Append('\n');
            }
            Assert.Fail(message.ToString());
        }
    }
}
