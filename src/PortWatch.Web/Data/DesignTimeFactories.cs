using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace PortWatch.Web.Data;

// Used only by 'dotnet ef' to build the model per provider; nothing connects to these databases.

public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePortWatchDbContext>
{
    public SqlitePortWatchDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortWatchDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresPortWatchDbContext>
{
    public PostgresDesignTimeFactory() { }

    public PostgresPortWatchDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortWatchDbContext>().UseNpgsql("Host=localhost;Database=portwatch_design").Options);
}
