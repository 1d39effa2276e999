using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class ServiceInfoConfiguration : IEntityTypeConfiguration<ServiceInfo>
{
    public void Configure(EntityTypeBuilder<ServiceInfo> builder)
    {
        builder.Property(s => s.Name).HasMaxLength(100);
        builder.Property(s => s.Product).HasMaxLength(200);
        builder.Property(s => s.Version).HasMaxLength(200);
        builder.Property(s => s.ExtraInfo).HasMaxLength(500);
        builder.Property(s => s.Hostname).HasMaxLength(255);
        builder.Property(s => s.OsType).HasMaxLength(100);
        builder.Property(s => s.DeviceType).HasMaxLength(100);
        builder.Property(s => s.Banner).HasMaxLength(ServiceInfo.MaxBannerLength);
        builder.Property(s => s.TlsVersion).HasMaxLength(20);
        builder.Property(s => s.CertSubject).HasMaxLength(1000);
        builder.Property(s => s.CertIssuer).HasMaxLength(1000);
        builder.Property(s => s.CertKeyType).HasMaxLength(20);
        builder.Property(s => s.HttpServer).HasMaxLength(500);
        builder.Property(s => s.HttpTitle).HasMaxLength(500);
        builder.Property(s => s.HttpRedirect).HasMaxLength(2000);
    }
}
