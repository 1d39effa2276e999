using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class ScheduleConfiguration : IEntityTypeConfiguration<Schedule>
{
    public void Configure(EntityTypeBuilder<Schedule> builder)
    {
        builder.Property(s => s.Name).HasMaxLength(100);
        builder.Property(s => s.CronExpression).HasMaxLength(200);
        builder.Property(s => s.TimeZoneId).HasMaxLength(100);
        builder.Property(s => s.AssetTag).HasMaxLength(100);
        builder.HasIndex(s => s.Name).IsUnique();
        builder.HasOne(s => s.ScanProfile).WithMany().HasForeignKey(s => s.ScanProfileId).OnDelete(DeleteBehavior.Restrict);
    }
}
