using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class HostLabelConfiguration : IEntityTypeConfiguration<HostLabel>
{
    public void Configure(EntityTypeBuilder<HostLabel> builder)
    {
        builder.Property(l => l.Address).HasMaxLength(45);
        builder.Property(l => l.AddressKey).HasMaxLength(IpKey.Length);
        builder.Property(l => l.Evidence).HasMaxLength(2000);
        builder.HasIndex(l => new { l.AddressKey, l.Kind }).IsUnique();
    }
}
