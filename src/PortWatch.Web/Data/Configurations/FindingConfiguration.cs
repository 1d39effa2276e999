using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class FindingConfiguration : IEntityTypeConfiguration<Finding>
{
    public void Configure(EntityTypeBuilder<Finding> builder)
    {
        builder.Property(f => f.Address).HasMaxLength(45);
        builder.Property(f => f.AddressKey).HasMaxLength(IpKey.Length);
        builder.Property(f => f.ServiceName).HasMaxLength(100);
        builder.Property(f => f.Product).HasMaxLength(200);
        builder.Property(f => f.Version).HasMaxLength(200);
        builder.Property(f => f.Assignee).HasMaxLength(256);
        builder.Property(f => f.Notes).HasMaxLength(4000);
        builder.Property(f => f.AlertFingerprint).HasMaxLength(400);
        builder.HasIndex(f => new { f.AddressKey, f.Port, f.Protocol }).IsUnique();
        // The findings grid filters by these and sorts by last seen; a million rows must stay quick.
        builder.HasIndex(f => new { f.Status, f.LastSeenAt });
        builder.HasIndex(f => new { f.CurrentState, f.LastSeenAt });
        builder.HasIndex(f => new { f.Severity, f.LastSeenAt });
        // Covers the Overview's open and high-risk counts and the High-risk filter's count on its own (milliseconds at a million rows).
        builder.HasIndex(f => new { f.CurrentState, f.Severity, f.Status });
        builder.HasIndex(f => f.LastSeenAt);
        builder.HasIndex(f => f.FirstSeenAt);
        builder.HasIndex(f => f.Port);
        builder.HasIndex(f => f.ExceptionRuleId);
        builder.HasOne(f => f.Asset).WithMany().HasForeignKey(f => f.AssetId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne(f => f.ExceptionRule).WithMany().HasForeignKey(f => f.ExceptionRuleId).OnDelete(DeleteBehavior.SetNull);
    }
}
