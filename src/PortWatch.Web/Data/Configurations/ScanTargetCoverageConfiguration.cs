using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class ScanTargetCoverageConfiguration : IEntityTypeConfiguration<ScanTargetCoverage>
{
    public void Configure(EntityTypeBuilder<ScanTargetCoverage> builder)
    {
        builder.Property(c => c.Address).HasMaxLength(45);
        builder.Property(c => c.AddressKey).HasMaxLength(IpKey.Length);
        builder.Property(c => c.Note).HasMaxLength(1000);
        builder.HasIndex(c => new { c.ScanRunId, c.AddressKey }).IsUnique();
        builder.HasIndex(c => new { c.AddressKey, c.Status });
    }
}
