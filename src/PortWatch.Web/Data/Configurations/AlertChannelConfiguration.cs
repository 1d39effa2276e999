using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class AlertChannelConfiguration : IEntityTypeConfiguration<AlertChannel>
{
    public void Configure(EntityTypeBuilder<AlertChannel> builder)
    {
        builder.Property(c => c.OwnerFilter).HasMaxLength(200);
        builder.Property(c => c.TagFilter).HasMaxLength(50);
        builder.Property(c => c.Name).HasMaxLength(100);
        builder.Property(c => c.Target).HasMaxLength(2000);
        builder.HasIndex(c => c.Name).IsUnique();
    }
}
