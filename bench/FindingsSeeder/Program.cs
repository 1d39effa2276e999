using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;

// usage: FindingsSeeder DATA_DIRECTORY [COUNT]
// Creates DATA_DIRECTORY/portwatch.db with the current schema and COUNT synthetic findings
// (default 1,000,000) spread over 203.0.113.0/24-like hosts in 10.0.0.0/8, with a realistic mix
// of states, statuses, severities and services. Documentation addresses only; nothing is scanned.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: FindingsSeeder DATA_DIRECTORY [COUNT]");
    return 2;
}
var directory = Path.GetFullPath(args[0]);
var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
Directory.CreateDirectory(directory);
var file = Path.Combine(directory, "portwatch.db");
if (File.Exists(file))
    File.Delete(file);
var connectionString = $"Data Source={file}";
var clock = Stopwatch.StartNew();
await using (var db = new SqlitePortWatchDbContext(new DbContextOptionsBuilder<PortWatchDbContext>().UseSqlite(connectionString).Options))
{
    await db.Database.MigrateAsync();
}

string[] services = ["http", "ssl/http", "ssh", "smtp", "domain", "mysql", "redis", "ms-wbt-server", "microsoft-ds", "unknown"];
string[] products = ["nginx", "Apache httpd", "OpenSSH", "Postfix smtpd", "ISC BIND", "MySQL", "Redis key-value store", "Microsoft Terminal Services", "", ""];
int[] ports = [80, 443, 22, 25, 53, 3306, 6379, 3389, 445, 8080, 8443, 9200, 21, 23, 5432, 27017, 11211, 2375, 5900, 10250];
var random = new Random(42);
var now = DateTime.UtcNow;
await using var connection = new SqliteConnection(connectionString);
await connection.OpenAsync();
await using (var pragma = connection.CreateCommand())
{
    pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;";
    await pragma.ExecuteNonQueryAsync();
}
await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
await using var insert = connection.CreateCommand();
insert.Transaction = transaction;
insert.CommandText = """
    INSERT INTO Findings (Address, AddressKey, Port, Protocol, FirstSeenAt, LastSeenAt, CurrentState, ServiceName, Product, Version, Status, Severity, Kind, Flags, UpdatedAt)
    VALUES ($address, $key, $port, 6, $first, $last, $state, $service, $product, $version, $status, $severity, 0, $flags, $last)
    """;
string[] names = ["$address", "$key", "$port", "$first", "$last", "$state", "$service", "$product", "$version", "$status", "$severity", "$flags"];
var parameters = names.ToDictionary(n => n, n => insert.Parameters.Add(new SqliteParameter { ParameterName = n }));
var perHost = 20;
for (var i = 0; i < count; i++)
{
    var host = i / perHost;
    var address = $"10.{(host >> 16) & 255}.{(host >> 8) & 255}.{host & 255}";
    var port = i % perHost < ports.Length ? ports[i % perHost] : 1024 + i % 60000;
    var serviceIndex = random.Next(services.Length);
    var first = now.AddDays(-random.Next(0, 365)).AddMinutes(-random.Next(0, 1440));
    parameters["$address"].Value = address;
    parameters["$key"].Value = IpKey.From(System.Net.IPAddress.Parse(address));
    parameters["$port"].Value = port;
    parameters["$first"].Value = first.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    parameters["$last"].Value = first.AddDays(random.Next(0, 30)).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    parameters["$state"].Value = random.Next(10) < 8 ? 1 : 2;
    parameters["$service"].Value = services[serviceIndex];
    parameters["$product"].Value = products[serviceIndex] is { Length: > 0 } p ? p : DBNull.Value;
    parameters["$version"].Value = random.Next(3) == 0 ? DBNull.Value : $"{random.Next(1, 10)}.{random.Next(0, 30)}";
    parameters["$status"].Value = random.Next(100) switch { < 55 => 0, < 85 => 1, < 92 => 2, _ => 3 };
    parameters["$severity"].Value = random.Next(100) switch { < 70 => 0, < 80 => 1, < 90 => 2, < 97 => 3, _ => 4 };
    parameters["$flags"].Value = random.Next(50) == 0 ? 1 : 0;
    await insert.ExecuteNonQueryAsync();
}
await transaction.CommitAsync();
await using (var analyze = connection.CreateCommand())
{
    analyze.CommandText = "ANALYZE;";
    await analyze.ExecuteNonQueryAsync();
}
Console.WriteLine($"seeded {count:N0} findings into {file} in {clock.Elapsed.TotalSeconds:F1} s");
return 0;
