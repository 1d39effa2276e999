using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class ScanRunConfiguration : IEntityTypeConfiguration<ScanRun>
{
    public void Configure(EntityTypeBuilder<ScanRun> builder)
    {
        builder.Property(r => r.Phase).HasConversion<string>().HasMaxLength(50);
        builder.Property(r => r.FinalizerNode).HasMaxLength(200);
        builder.Property(r => r.RequestedBy).HasMaxLength(256);
        builder.Property(r => r.Error).HasMaxLength(4000);
        builder.Property(r => r.Node).HasMaxLength(200);
        builder.Property(r => r.Notes).HasMaxLength(4000);
        builder.HasIndex(r => new { r.Status, r.CreatedAt });
        builder.HasIndex(r => r.CreatedAt);
        builder.HasOne(r => r.Schedule).WithMany().HasForeignKey(r => r.ScheduleId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne(r => r.ScanProfile).WithMany().HasForeignKey(r => r.ScanProfileId).OnDelete(DeleteBehavior.SetNull);
        builder.HasMany(r => r.Coverage).WithOne().HasForeignKey(c => c.ScanRunId).OnDelete(DeleteBehavior.Cascade);
    }
}
