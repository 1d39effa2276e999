using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class PortObservationConfiguration : IEntityTypeConfiguration<PortObservation>
{
    public void Configure(EntityTypeBuilder<PortObservation> builder)
    {
        builder.Property(o => o.Address).HasMaxLength(45);
        builder.Property(o => o.AddressKey).HasMaxLength(IpKey.Length);
        builder.Property(o => o.Reason).HasMaxLength(50);
        // One observation per run, address, port and protocol: a shard taken over by another node cannot duplicate.
        builder.HasIndex(o => new { o.ScanRunId, o.AddressKey, o.Port, o.Protocol }).IsUnique();
        builder.HasIndex(o => new { o.AddressKey, o.Port, o.Protocol });
        builder.HasOne(o => o.ScanRun).WithMany().HasForeignKey(o => o.ScanRunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(o => o.Service).WithOne().HasForeignKey<ServiceInfo>(s => s.PortObservationId).OnDelete(DeleteBehavior.Cascade);
    }
}
