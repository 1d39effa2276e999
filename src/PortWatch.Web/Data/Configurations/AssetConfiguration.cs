using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class AssetConfiguration : IEntityTypeConfiguration<Asset>
{
    public void Configure(EntityTypeBuilder<Asset> builder)
    {
        builder.Property(a => a.Name).HasMaxLength(200);
        builder.Property(a => a.Target).HasMaxLength(100);
        builder.Property(a => a.RangeStart).HasMaxLength(IpKey.Length);
        builder.Property(a => a.RangeEnd).HasMaxLength(IpKey.Length);
        builder.Property(a => a.Owner).HasMaxLength(200);
        builder.Property(a => a.Environment).HasMaxLength(100);
        builder.Property(a => a.SourceOfRecord).HasMaxLength(100);
        builder.Property(a => a.ExternalId).HasMaxLength(200);
        builder.HasIndex(a => new { a.RangeStart, a.RangeEnd });
        builder.HasIndex(a => a.Target).IsUnique();
        builder.HasIndex(a => new { a.SourceOfRecord, a.ExternalId });
    }
}
