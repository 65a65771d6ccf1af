using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Tests;

/// <summary>Comparisons of a lab value with a threshold count only when the reported value certainly satisfies them.</summary>
public sealed class LabResultTests
{
    public enum Comparison { Below, AtMost, Above, AtLeast }

    [Theory]
    [InlineData("19.9", Comparison.Below, 20, true)]
    [InlineData("20", Comparison.Below, 20, false)]
    [InlineData("<20", Comparison.Below, 20, true)]
    [InlineData("<5", Comparison.Below, 20, true)]
    [InlineData("<25", Comparison.Below, 20, false)]
    [InlineData("<=20", Comparison.Below, 20, false)]
    [InlineData("<=19", Comparison.Below, 20, true)]
    [InlineData(">5", Comparison.Below, 20, false)]
    [InlineData(">=5", Comparison.Below, 20, false)]
    [InlineData("75", Comparison.AtMost, 75, true)]
    [InlineData("75.1", Comparison.AtMost, 75, false)]
    [InlineData("<75", Comparison.AtMost, 75, true)]
    [InlineData("<76", Comparison.AtMost, 75, false)]
    [InlineData("<=75", Comparison.AtMost, 75, true)]
    [InlineData(">50", Comparison.AtMost, 75, false)]
    [InlineData("100.1", Comparison.Above, 100, true)]
    [InlineData("100", Comparison.Above, 100, false)]
    [InlineData(">100", Comparison.Above, 100, true)]
    [InlineData(">99", Comparison.Above, 100, false)]
    [InlineData(">=100", Comparison.Above, 100, false)]
    [InlineData(">=101", Comparison.Above, 100, true)]
    [InlineData("<300", Comparison.Above, 100, false)]
    [InlineData("<=300", Comparison.Above, 100, false)]
    [InlineData("300", Comparison.AtLeast, 300, true)]
    [InlineData("299.9", Comparison.AtLeast, 300, false)]
    [InlineData(">300", Comparison.AtLeast, 300, true)]
    [InlineData(">299", Comparison.AtLeast, 300, false)]
    [InlineData(">=300", Comparison.AtLeast, 300, true)]
    [InlineData("<500", Comparison.AtLeast, 300, false)]
    [InlineData("<=500", Comparison.AtLeast, 300, false)]
    public void Compare_WithComparator_TrueOnlyWhenCertain(string reported, Comparison comparison, int limit, bool expected)
    {
        var lab = Snapshots.Lab(Analyte.Ferritin, reported);

        var actual = comparison switch
        {
            Comparison.Below => lab.Below(limit),
            Comparison.AtMost => lab.AtMost(limit),
            Comparison.Above => lab.Above(limit),
            _ => lab.AtLeast(limit),
        };

        Assert.Equal(expected, actual);
    }
}
