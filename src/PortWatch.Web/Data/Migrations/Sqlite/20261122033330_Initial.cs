using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PortWatch.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AlertChannels",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    Target = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    MinimumSeverity = table.Column<int>(type: "INTEGER", nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AlertChannels", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetRoles",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    NormalizedName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    ConcurrencyStamp = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetRoles", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUsers",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    NormalizedUserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    Email = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    NormalizedEmail = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    EmailConfirmed = table.Column<bool>(type: "INTEGER", nullable: false),
                    PasswordHash = table.Column<string>(type: "TEXT", nullable: true),
                    SecurityStamp = table.Column<string>(type: "TEXT", nullable: true),
                    ConcurrencyStamp = table.Column<string>(type: "TEXT", nullable: true),
                    PhoneNumber = table.Column<string>(type: "TEXT", nullable: true),
                    PhoneNumberConfirmed = table.Column<bool>(type: "INTEGER", nullable: false),
                    TwoFactorEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    LockoutEnd = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    LockoutEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    AccessFailedCount = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUsers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Assets",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Target = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Family = table.Column<int>(type: "INTEGER", nullable: false),
                    RangeStart = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    RangeEnd = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Owner = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Tags = table.Column<string>(type: "TEXT", nullable: false),
                    Environment = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    SourceOfRecord = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ExternalId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Assets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AuditEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    At = table.Column<DateTime>(type: "TEXT", nullable: false),
                    User = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Action = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    EntityType = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    EntityId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Before = table.Column<string>(type: "TEXT", nullable: true),
                    After = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditEntries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ExceptionRules",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ScopeKind = table.Column<int>(type: "INTEGER", nullable: false),
                    ScopeValue = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    RangeStart = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    RangeEnd = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    PortFrom = table.Column<int>(type: "INTEGER", nullable: false),
                    PortTo = table.Column<int>(type: "INTEGER", nullable: false),
                    Protocol = table.Column<int>(type: "INTEGER", nullable: true),
                    ExpectedService = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    ExpectedProduct = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    Approver = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ExceptionRules", x => x.Id);
                    table.CheckConstraint("CK_ExceptionRules_PortRange", "\"PortFrom\" >= 0 AND \"PortTo\" <= 65535 AND \"PortFrom\" <= \"PortTo\"");
                });

            migrationBuilder.CreateTable(
                name: "RiskRules",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    Protocol = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Severity = table.Column<int>(type: "INTEGER", nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RiskRules", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ScanProfiles",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    TcpPorts = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    UdpPorts = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    TcpEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    UdpEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    RatePps = table.Column<int>(type: "INTEGER", nullable: false),
                    Retries = table.Column<int>(type: "INTEGER", nullable: false),
                    TimeoutMs = table.Column<int>(type: "INTEGER", nullable: false),
                    Engine = table.Column<int>(type: "INTEGER", nullable: false),
                    ServiceDetection = table.Column<bool>(type: "INTEGER", nullable: false),
                    VersionIntensity = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ScanProfiles", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetRoleClaims",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RoleId = table.Column<string>(type: "TEXT", nullable: false),
                    ClaimType = table.Column<string>(type: "TEXT", nullable: true),
                    ClaimValue = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetRoleClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AspNetRoleClaims_AspNetRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "AspNetRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserClaims",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    ClaimType = table.Column<string>(type: "TEXT", nullable: true),
                    ClaimValue = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AspNetUserClaims_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserLogins",
                columns: table => new
                {
                    LoginProvider = table.Column<string>(type: "TEXT", nullable: false),
                    ProviderKey = table.Column<string>(type: "TEXT", nullable: false),
                    ProviderDisplayName = table.Column<string>(type: "TEXT", nullable: true),
                    UserId = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserLogins", x => new { x.LoginProvider, x.ProviderKey });
                    table.ForeignKey(
                        name: "FK_AspNetUserLogins_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserRoles",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    RoleId = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserRoles", x => new { x.UserId, x.RoleId });
                    table.ForeignKey(
                        name: "FK_AspNetUserRoles_AspNetRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "AspNetRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_AspNetUserRoles_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserTokens",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    LoginProvider = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Value = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserTokens", x => new { x.UserId, x.LoginProvider, x.Name });
                    table.ForeignKey(
                        name: "FK_AspNetUserTokens_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Findings",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Address = table.Column<string>(type: "TEXT", maxLength: 45, nullable: false),
                    AddressKey = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    Protocol = table.Column<int>(type: "INTEGER", nullable: false),
                    AssetId = table.Column<int>(type: "INTEGER", nullable: true),
                    FirstSeenAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSeenAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CurrentState = table.Column<int>(type: "INTEGER", nullable: false),
                    ServiceName = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Product = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Version = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    LastRunId = table.Column<long>(type: "INTEGER", nullable: true),
                    LastObservationId = table.Column<long>(type: "INTEGER", nullable: true),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Severity = table.Column<int>(type: "INTEGER", nullable: false),
                    Assignee = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    Notes = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    ExceptionRuleId = table.Column<int>(type: "INTEGER", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Findings", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Findings_Assets_AssetId",
                        column: x => x.AssetId,
                        principalTable: "Assets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_Findings_ExceptionRules_ExceptionRuleId",
                        column: x => x.ExceptionRuleId,
                        principalTable: "ExceptionRules",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "Schedules",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    CronExpression = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    TimeZoneId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ScanProfileId = table.Column<int>(type: "INTEGER", nullable: false),
                    AssetSelection = table.Column<int>(type: "INTEGER", nullable: false),
                    AssetTag = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    AssetIds = table.Column<string>(type: "TEXT", nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    WindowStart = table.Column<TimeOnly>(type: "TEXT", nullable: true),
                    WindowEnd = table.Column<TimeOnly>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Schedules", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Schedules_ScanProfiles_ScanProfileId",
                        column: x => x.ScanProfileId,
                        principalTable: "ScanProfiles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "ScanRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Trigger = table.Column<int>(type: "INTEGER", nullable: false),
                    Phase = table.Column<string>(type: "TEXT", maxLength: 50, nullable: true),
                    ScheduleId = table.Column<int>(type: "INTEGER", nullable: true),
                    ScanProfileId = table.Column<int>(type: "INTEGER", nullable: true),
                    TargetSpec = table.Column<string>(type: "TEXT", nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FinishedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    TargetCount = table.Column<long>(type: "INTEGER", nullable: false),
                    PortCount = table.Column<int>(type: "INTEGER", nullable: false),
                    PacketsSent = table.Column<long>(type: "INTEGER", nullable: false),
                    RepliesReceived = table.Column<long>(type: "INTEGER", nullable: false),
                    OpenCount = table.Column<int>(type: "INTEGER", nullable: false),
                    ClosedCount = table.Column<int>(type: "INTEGER", nullable: false),
                    FilteredCount = table.Column<int>(type: "INTEGER", nullable: false),
                    PermutationSeed = table.Column<long>(type: "INTEGER", nullable: true),
                    CheckpointPosition = table.Column<long>(type: "INTEGER", nullable: true),
                    ResumeCount = table.Column<int>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ScanRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ScanRuns_ScanProfiles_ScanProfileId",
                        column: x => x.ScanProfileId,
                        principalTable: "ScanProfiles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_ScanRuns_Schedules_ScheduleId",
                        column: x => x.ScheduleId,
                        principalTable: "Schedules",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "PortObservations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ScanRunId = table.Column<long>(type: "INTEGER", nullable: false),
                    Address = table.Column<string>(type: "TEXT", maxLength: 45, nullable: false),
                    AddressKey = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    Protocol = table.Column<int>(type: "INTEGER", nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    Ttl = table.Column<int>(type: "INTEGER", nullable: true),
                    ObservedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PortObservations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_PortObservations_ScanRuns_ScanRunId",
                        column: x => x.ScanRunId,
                        principalTable: "ScanRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ScanTargetCoverage",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ScanRunId = table.Column<long>(type: "INTEGER", nullable: false),
                    Address = table.Column<string>(type: "TEXT", maxLength: 45, nullable: false),
                    AddressKey = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    PortsPlanned = table.Column<int>(type: "INTEGER", nullable: false),
                    PortsAnswered = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Note = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ScanTargetCoverage", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ScanTargetCoverage_ScanRuns_ScanRunId",
                        column: x => x.ScanRunId,
                        principalTable: "ScanRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ServiceInfos",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    PortObservationId = table.Column<long>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Product = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Version = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    ExtraInfo = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    Hostname = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    OsType = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    DeviceType = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Cpes = table.Column<string>(type: "TEXT", nullable: false),
                    IsSoftMatch = table.Column<bool>(type: "INTEGER", nullable: false),
                    Banner = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    TlsVersion = table.Column<string>(type: "TEXT", maxLength: 20, nullable: true),
                    CertSubject = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    CertIssuer = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    CertSubjectAltNames = table.Column<string>(type: "TEXT", nullable: false),
                    CertNotBefore = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CertNotAfter = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CertSelfSigned = table.Column<bool>(type: "INTEGER", nullable: true),
                    CertKeyType = table.Column<string>(type: "TEXT", maxLength: 20, nullable: true),
                    CertKeySize = table.Column<int>(type: "INTEGER", nullable: true),
                    HttpStatus = table.Column<int>(type: "INTEGER", nullable: true),
                    HttpServer = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    HttpTitle = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    HttpRedirect = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ServiceInfos", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ServiceInfos_PortObservations_PortObservationId",
                        column: x => x.PortObservationId,
                        principalTable: "PortObservations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AlertChannels_Name",
                table: "AlertChannels",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AspNetRoleClaims_RoleId",
                table: "AspNetRoleClaims",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "RoleNameIndex",
                table: "AspNetRoles",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserClaims_UserId",
                table: "AspNetUserClaims",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserLogins_UserId",
                table: "AspNetUserLogins",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserRoles_RoleId",
                table: "AspNetUserRoles",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "EmailIndex",
                table: "AspNetUsers",
                column: "NormalizedEmail");

            migrationBuilder.CreateIndex(
                name: "UserNameIndex",
                table: "AspNetUsers",
                column: "NormalizedUserName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Assets_RangeStart_RangeEnd",
                table: "Assets",
                columns: new[] { "RangeStart", "RangeEnd" });

            migrationBuilder.CreateIndex(
                name: "IX_Assets_SourceOfRecord_ExternalId",
                table: "Assets",
                columns: new[] { "SourceOfRecord", "ExternalId" });

            migrationBuilder.CreateIndex(
                name: "IX_Assets_Target",
                table: "Assets",
                column: "Target",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_At",
                table: "AuditEntries",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_EntityType_EntityId",
                table: "AuditEntries",
                columns: new[] { "EntityType", "EntityId" });

            migrationBuilder.CreateIndex(
                name: "IX_ExceptionRules_ExpiresAt",
                table: "ExceptionRules",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_Findings_AddressKey_Port_Protocol",
                table: "Findings",
                columns: new[] { "AddressKey", "Port", "Protocol" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Findings_AssetId",
                table: "Findings",
                column: "AssetId");

            migrationBuilder.CreateIndex(
                name: "IX_Findings_CurrentState_LastSeenAt",
                table: "Findings",
                columns: new[] { "CurrentState", "LastSeenAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Findings_ExceptionRuleId",
                table: "Findings",
                column: "ExceptionRuleId");

            migrationBuilder.CreateIndex(
                name: "IX_Findings_FirstSeenAt",
                table: "Findings",
                column: "FirstSeenAt");

            migrationBuilder.CreateIndex(
                name: "IX_Findings_LastSeenAt",
                table: "Findings",
                column: "LastSeenAt");

            migrationBuilder.CreateIndex(
                name: "IX_Findings_Port",
                table: "Findings",
                column: "Port");

            migrationBuilder.CreateIndex(
                name: "IX_Findings_Severity_LastSeenAt",
                table: "Findings",
                columns: new[] { "Severity", "LastSeenAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Findings_Status_LastSeenAt",
                table: "Findings",
                columns: new[] { "Status", "LastSeenAt" });

            migrationBuilder.CreateIndex(
                name: "IX_PortObservations_AddressKey_Port_Protocol",
                table: "PortObservations",
                columns: new[] { "AddressKey", "Port", "Protocol" });

            migrationBuilder.CreateIndex(
                name: "IX_PortObservations_ScanRunId_AddressKey_Port_Protocol",
                table: "PortObservations",
                columns: new[] { "ScanRunId", "AddressKey", "Port", "Protocol" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_RiskRules_Port_Protocol",
                table: "RiskRules",
                columns: new[] { "Port", "Protocol" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ScanProfiles_Name",
                table: "ScanProfiles",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ScanRuns_CreatedAt",
                table: "ScanRuns",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_ScanRuns_ScanProfileId",
                table: "ScanRuns",
                column: "ScanProfileId");

            migrationBuilder.CreateIndex(
                name: "IX_ScanRuns_ScheduleId",
                table: "ScanRuns",
                column: "ScheduleId");

            migrationBuilder.CreateIndex(
                name: "IX_ScanRuns_Status_CreatedAt",
                table: "ScanRuns",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ScanTargetCoverage_AddressKey_Status",
                table: "ScanTargetCoverage",
                columns: new[] { "AddressKey", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_ScanTargetCoverage_ScanRunId_AddressKey",
                table: "ScanTargetCoverage",
                columns: new[] { "ScanRunId", "AddressKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Schedules_Name",
                table: "Schedules",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Schedules_ScanProfileId",
                table: "Schedules",
                column: "ScanProfileId");

            migrationBuilder.CreateIndex(
                name: "IX_ServiceInfos_PortObservationId",
                table: "ServiceInfos",
                column: "PortObservationId",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AlertChannels");

            migrationBuilder.DropTable(
                name: "AspNetRoleClaims");

            migrationBuilder.DropTable(
                name: "AspNetUserClaims");

            migrationBuilder.DropTable(
                name: "AspNetUserLogins");

            migrationBuilder.DropTable(
                name: "AspNetUserRoles");

            migrationBuilder.DropTable(
                name: "AspNetUserTokens");

            migrationBuilder.DropTable(
                name: "AuditEntries");

            migrationBuilder.DropTable(
                name: "Findings");

            migrationBuilder.DropTable(
                name: "RiskRules");

            migrationBuilder.DropTable(
                name: "ScanTargetCoverage");

            migrationBuilder.DropTable(
                name: "ServiceInfos");

            migrationBuilder.DropTable(
                name: "AspNetRoles");

            migrationBuilder.DropTable(
                name: "AspNetUsers");

            migrationBuilder.DropTable(
                name: "Assets");

            migrationBuilder.DropTable(
                name: "ExceptionRules");

            migrationBuilder.DropTable(
                name: "PortObservations");

            migrationBuilder.DropTable(
                name: "ScanRuns");

            migrationBuilder.DropTable(
                name: "Schedules");

            migrationBuilder.DropTable(
                name: "ScanProfiles");
        }
    }
}
