using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class ScanNodeConfiguration : IEntityTypeConfiguration<ScanNode>
{
    public void Configure(EntityTypeBuilder<ScanNode> builder)
    {
        builder.Property(n => n.Id).HasMaxLength(200);
        builder.HasIndex(n => n.LastSeenAt);
    }
}
