using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class ScanProfileConfiguration : IEntityTypeConfiguration<ScanProfile>
{
    public void Configure(EntityTypeBuilder<ScanProfile> builder)
    {
        builder.Property(p => p.Name).HasMaxLength(100);
        builder.Property(p => p.Description).HasMaxLength(1000);
        builder.Property(p => p.TcpPorts).HasMaxLength(4000);
        builder.Property(p => p.UdpPorts).HasMaxLength(4000);
        builder.HasIndex(p => p.Name).IsUnique();
    }
}
