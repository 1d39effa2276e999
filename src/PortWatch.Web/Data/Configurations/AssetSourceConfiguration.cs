using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class AssetSourceConfiguration : IEntityTypeConfiguration<AssetSource>
{
    public void Configure(EntityTypeBuilder<AssetSource> builder)
    {
        builder.Property(s => s.Name).HasMaxLength(100);
        builder.HasIndex(s => s.Name).IsUnique();
        builder.Property(s => s.CronExpression).HasMaxLength(200);
        builder.Property(s => s.Settings).HasMaxLength(20_000);
        builder.Property(s => s.ProtectedSecrets).HasMaxLength(20_000);
    }
}

public sealed class AssetClaimConfiguration : IEntityTypeConfiguration<AssetClaim>
{
    public void Configure(EntityTypeBuilder<AssetClaim> builder)
    {
        builder.Property(c => c.ExternalId).HasMaxLength(200);
        builder.HasIndex(c => new { c.AssetSourceId, c.AssetId }).IsUnique();
        builder.HasIndex(c => c.AssetId);
        builder.HasOne(c => c.Asset).WithMany().HasForeignKey(c => c.AssetId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(c => c.AssetSource).WithMany().HasForeignKey(c => c.AssetSourceId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class AssetSourceSyncConfiguration : IEntityTypeConfiguration<AssetSourceSync>
{
    public void Configure(EntityTypeBuilder<AssetSourceSync> builder)
    {
        builder.Property(s => s.RequestedBy).HasMaxLength(256);
        builder.Property(s => s.Error).HasMaxLength(2000);
        builder.HasIndex(s => new { s.AssetSourceId, s.StartedAt });
        builder.HasOne(s => s.AssetSource).WithMany().HasForeignKey(s => s.AssetSourceId).OnDelete(DeleteBehavior.Cascade);
    }
}
