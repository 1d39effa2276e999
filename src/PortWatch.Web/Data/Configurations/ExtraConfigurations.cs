using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class TrendSnapshotConfiguration : IEntityTypeConfiguration<TrendSnapshot>
{
    public void Configure(EntityTypeBuilder<TrendSnapshot> builder) => builder.HasIndex(t => t.Day).IsUnique();
}

public sealed class ScopeEntryConfiguration : IEntityTypeConfiguration<ScopeEntry>
{
    public void Configure(EntityTypeBuilder<ScopeEntry> builder)
    {
        builder.Property(s => s.Range).HasMaxLength(100);
        builder.Property(s => s.Note).HasMaxLength(500);
        builder.Property(s => s.CreatedBy).HasMaxLength(256);
        builder.HasIndex(s => s.Range).IsUnique();
    }
}

public sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.Property(t => t.UserId).HasMaxLength(450);
        builder.Property(t => t.Name).HasMaxLength(100);
        builder.Property(t => t.Prefix).HasMaxLength(20);
        builder.Property(t => t.Hash).HasMaxLength(64);
        builder.HasIndex(t => t.Hash).IsUnique();
        builder.HasIndex(t => t.UserId);
    }
}
