using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class AlertDeliveryConfiguration : IEntityTypeConfiguration<AlertDelivery>
{
    public void Configure(EntityTypeBuilder<AlertDelivery> builder)
    {
        builder.Property(d => d.Subject).HasMaxLength(300);
        builder.Property(d => d.LastError).HasMaxLength(2000);
        // One digest per run and channel, even if finalising runs twice after a crash.
        builder.HasIndex(d => new { d.ScanRunId, d.AlertChannelId }).IsUnique();
        builder.HasIndex(d => new { d.Status, d.NextAttemptAt });
        builder.HasIndex(d => d.CreatedAt);
        builder.HasOne(d => d.AlertChannel).WithMany().HasForeignKey(d => d.AlertChannelId).OnDelete(DeleteBehavior.Cascade);
    }
}
