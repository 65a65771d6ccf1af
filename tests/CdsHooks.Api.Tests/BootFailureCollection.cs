namespace CdsHooks.Api.Tests;

/// <summary>
/// Tests that make the host fail while it starts run alone, after the parallel classes. The test host factory learns
/// of the host that Program.cs builds through a process-wide diagnostic event; with other hosts starting at the same
/// moment, a failing start was seen (once, under load) to surface as an ObjectDisposedException instead of the
/// configuration error the test asserts on.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BootFailureCollection
{
    public const string Name = "Boot failures";
}
