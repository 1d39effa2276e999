using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class ExceptionRuleConfiguration : IEntityTypeConfiguration<ExceptionRule>
{
    public void Configure(EntityTypeBuilder<ExceptionRule> builder)
    {
        builder.Property(e => e.ScopeValue).HasMaxLength(100);
        builder.Property(e => e.RangeStart).HasMaxLength(IpKey.Length);
        builder.Property(e => e.RangeEnd).HasMaxLength(IpKey.Length);
        builder.Property(e => e.ExpectedService).HasMaxLength(100);
        builder.Property(e => e.ExpectedProduct).HasMaxLength(200);
        builder.Property(e => e.Reason).HasMaxLength(2000);
        builder.Property(e => e.Approver).HasMaxLength(256);
        builder.Property(e => e.CreatedBy).HasMaxLength(256);
        builder.HasIndex(e => e.ExpiresAt);
        builder.ToTable(t => t.HasCheckConstraint("CK_ExceptionRules_PortRange", "\"PortFrom\" >= 0 AND \"PortTo\" <= 65535 AND \"PortFrom\" <= \"PortTo\""));
    }
}
