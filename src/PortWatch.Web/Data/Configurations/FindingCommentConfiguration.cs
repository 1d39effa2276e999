using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data.Configurations;

public sealed class FindingCommentConfiguration : IEntityTypeConfiguration<FindingComment>
{
    public void Configure(EntityTypeBuilder<FindingComment> builder)
    {
        builder.Property(c => c.Author).HasMaxLength(256);
        builder.Property(c => c.Text).HasMaxLength(FindingComment.MaxLength);
        builder.HasIndex(c => new { c.FindingId, c.At });
        builder.HasOne(c => c.Finding).WithMany().HasForeignKey(c => c.FindingId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class FindingTicketConfiguration : IEntityTypeConfiguration<FindingTicket>
{
    public void Configure(EntityTypeBuilder<FindingTicket> builder)
    {
        builder.Property(t => t.System).HasMaxLength(20);
        builder.Property(t => t.Key).HasMaxLength(200);
        builder.Property(t => t.Url).HasMaxLength(2000);
        builder.Property(t => t.CreatedBy).HasMaxLength(256);
        builder.HasIndex(t => t.FindingId);
        builder.HasOne(t => t.Finding).WithMany().HasForeignKey(t => t.FindingId).OnDelete(DeleteBehavior.Cascade);
    }
}

public sealed class PortWatchUserConfiguration : IEntityTypeConfiguration<Identity.PortWatchUser>
{
    public void Configure(EntityTypeBuilder<Identity.PortWatchUser> builder) => builder.Property(u => u.TimeZone).HasMaxLength(100);
}
