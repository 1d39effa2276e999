using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class ScanShardConfiguration : IEntityTypeConfiguration<ScanShard>
{
    public void Configure(EntityTypeBuilder<ScanShard> builder)
    {
        builder.Property(s => s.Node).HasMaxLength(200);
        builder.Property(s => s.Error).HasMaxLength(4000);
        // Two nodes splitting the same run at once: only one set of shards can be created.
        builder.HasIndex(s => new { s.ScanRunId, s.Index }).IsUnique();
        builder.HasOne<ScanRun>().WithMany().HasForeignKey(s => s.ScanRunId).OnDelete(DeleteBehavior.Cascade);
    }
}
