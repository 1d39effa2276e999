using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Data;

/// <summary>
/// The one database: PortWatch's data and ASP.NET Core Identity's tables. Instances are always
/// of a provider-specific subclass (<see cref="SqlitePortWatchDbContext"/>, <see cref="PostgresPortWatchDbContext"/>)
/// so each provider keeps its own migrations; code uses this base type.
/// </summary>
public abstract class PortWatchDbContext(DbContextOptions options) : IdentityDbContext<PortWatchUser>(options), IDataProtectionKeyContext
{
    /// <summary>The sign-in key ring when the database is PostgreSQL, so every node of a cluster reads the cookies of the others.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<ScanNode> ScanNodes => Set<ScanNode>();

    public DbSet<Asset> Assets => Set<Asset>();
    public DbSet<ScanProfile> ScanProfiles => Set<ScanProfile>();
    public DbSet<Schedule> Schedules => Set<Schedule>();
    public DbSet<ScanRun> ScanRuns => Set<ScanRun>();
    public DbSet<ScanTargetCoverage> ScanTargetCoverage => Set<ScanTargetCoverage>();
    public DbSet<ScanShard> ScanShards => Set<ScanShard>();
    public DbSet<PortObservation> PortObservations => Set<PortObservation>();
    public DbSet<ServiceInfo> ServiceInfos => Set<ServiceInfo>();
    public DbSet<Finding> Findings => Set<Finding>();
    public DbSet<ExceptionRule> ExceptionRules => Set<ExceptionRule>();
    public DbSet<RiskRule> RiskRules => Set<RiskRule>();
    public DbSet<AlertChannel> AlertChannels => Set<AlertChannel>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<FindingEvent> FindingEvents => Set<FindingEvent>();
    public DbSet<FindingComment> FindingComments => Set<FindingComment>();
    public DbSet<FindingTicket> FindingTickets => Set<FindingTicket>();
    public DbSet<AssetSource> AssetSources => Set<AssetSource>();
    public DbSet<AssetClaim> AssetClaims => Set<AssetClaim>();
    public DbSet<AssetSourceSync> AssetSourceSyncs => Set<AssetSourceSync>();
    public DbSet<AlertDelivery> AlertDeliveries => Set<AlertDelivery>();
    public DbSet<TrendSnapshot> TrendSnapshots => Set<TrendSnapshot>();
    public DbSet<ScopeEntry> ScopeEntries => Set<ScopeEntry>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<HostLabel> HostLabels => Set<HostLabel>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortWatchDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // All times are UTC. SQLite hands DateTime back with Kind=Unspecified; PostgreSQL's timestamptz refuses anything but Utc.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Local ? v.ToUniversalTime() : DateTime.SpecifyKind(v, DateTimeKind.Utc),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

public sealed class SqlitePortWatchDbContext(DbContextOptions options) : PortWatchDbContext(options);

public sealed class PostgresPortWatchDbContext(DbContextOptions options) : PortWatchDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // Address keys compare as text; only the "C" collation guarantees byte order (see IpKey).
        foreach (var property in builder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
        {
            if (property.ClrType == typeof(string) && property.GetMaxLength() == IpKey.Length)
                property.SetCollation("C");
        }
    }
}
