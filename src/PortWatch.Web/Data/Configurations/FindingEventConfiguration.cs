using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class FindingEventConfiguration : IEntityTypeConfiguration<FindingEvent>
{
    public void Configure(EntityTypeBuilder<FindingEvent> builder)
    {
        builder.Property(e => e.ServiceName).HasMaxLength(100);
        builder.Property(e => e.Product).HasMaxLength(200);
        builder.Property(e => e.Version).HasMaxLength(200);
        builder.Property(e => e.Detail).HasMaxLength(1000);
        builder.HasIndex(e => new { e.FindingId, e.At });
        builder.HasIndex(e => new { e.ScanRunId, e.Kind });
        builder.HasOne(e => e.Finding).WithMany().HasForeignKey(e => e.FindingId).OnDelete(DeleteBehavior.Cascade);
    }
}
