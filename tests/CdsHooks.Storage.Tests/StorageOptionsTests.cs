namespace CdsHooks.Storage.Tests;

/// <summary>A bad Storage or Redis setting fails validation with a message naming the key.</summary>
public sealed class StorageOptionsTests
{
    [Theory]
    [InlineData("mysql", null, "Storage:Provider")]
    [InlineData("postgres", null, "Storage:ConnectionString is required")]
    [InlineData("postgres", "Database=cds", "must name a Host")]
    [InlineData("postgres", "Hots=db", "Storage:ConnectionString")]
    [InlineData("sqlite", "Mode=ReadOnly;Data Source=x.db", "read-only")]
    [InlineData("sqlite", "Nonsense Key=1", "Storage:ConnectionString")]
    public void StorageValidator_BadSettings_FailNamingTheKey(string provider, string? connectionString, string expected)
    {
        var result = new StorageOptionsValidator().Validate(null, new StorageOptions { Provider = provider, ConnectionString = connectionString });
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sqlite", null)]
    [InlineData("SQLite", "Data Source=/tmp/x.db")]
    [InlineData("postgres", "Host=127.0.0.1;Port=5432;Database=cds;Username=cds")]
    public void StorageValidator_GoodSettings_Pass(string provider, string? connectionString) =>
        Assert.True(new StorageOptionsValidator().Validate(null, new StorageOptions { Provider = provider, ConnectionString = connectionString }).Succeeded);

    [Theory]
    [InlineData("", true)]
    [InlineData("127.0.0.1:6379,abortConnect=false", true)]
    [InlineData("127.0.0.1:6379,notAnOption=1", false)]
    [InlineData(",,,", false)]
    public void RedisValidator_ChecksTheConfigurationString(string value, bool valid) =>
        Assert.Equal(valid, new RedisOptionsValidator().Validate(null, new RedisOptions { ConnectionString = value }).Succeeded);

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(1001)]
    public void RedisValidator_OperationTimeoutOutOfRange_FailsNamingTheKey(int milliseconds)
    {
        var result = new RedisOptionsValidator().Validate(null, new RedisOptions { ConnectionString = "127.0.0.1:6379", OperationTimeoutMilliseconds = milliseconds });
        Assert.True(result.Failed);
        Assert.Contains("Redis:OperationTimeoutMilliseconds", result.FailureMessage, StringComparison.Ordinal);
    }
}
