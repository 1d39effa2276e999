using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PortWatch.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AssetSources : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "RetiredAt",
                table: "Assets",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OwnerFilter",
                table: "AlertChannels",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TagFilter",
                table: "AlertChannels",
                type: "character varying(50)",
                maxLength: 50,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "AssetSources",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Kind = table.Column<int>(type: "integer", nullable: false),
                    CronExpression = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Settings = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    ProtectedSecrets = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: true),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    MaxRetireShare = table.Column<double>(type: "double precision", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSyncAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastSyncStatus = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AssetSources", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AssetClaims",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    AssetId = table.Column<int>(type: "integer", nullable: false),
                    AssetSourceId = table.Column<int>(type: "integer", nullable: false),
                    ExternalId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    LastSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AssetClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AssetClaims_AssetSources_AssetSourceId",
                        column: x => x.AssetSourceId,
                        principalTable: "AssetSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_AssetClaims_Assets_AssetId",
                        column: x => x.AssetId,
                        principalTable: "Assets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AssetSourceSyncs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    AssetSourceId = table.Column<int>(type: "integer", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Status = table.Column<int>(type: "integer", nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    Added = table.Column<int>(type: "integer", nullable: false),
                    Updated = table.Column<int>(type: "integer", nullable: false),
                    Unretired = table.Column<int>(type: "integer", nullable: false),
                    Retired = table.Column<int>(type: "integer", nullable: false),
                    Unchanged = table.Column<int>(type: "integer", nullable: false),
                    Rejected = table.Column<string>(type: "text", nullable: false),
                    RejectedCount = table.Column<int>(type: "integer", nullable: false),
                    RetiredTargets = table.Column<string>(type: "text", nullable: false),
                    Error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    HeldEntries = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AssetSourceSyncs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AssetSourceSyncs_AssetSources_AssetSourceId",
                        column: x => x.AssetSourceId,
                        principalTable: "AssetSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AssetClaims_AssetId",
                table: "AssetClaims",
                column: "AssetId");

            migrationBuilder.CreateIndex(
                name: "IX_AssetClaims_AssetSourceId_AssetId",
                table: "AssetClaims",
                columns: new[] { "AssetSourceId", "AssetId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AssetSources_Name",
                table: "AssetSources",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AssetSourceSyncs_AssetSourceId_StartedAt",
                table: "AssetSourceSyncs",
                columns: new[] { "AssetSourceId", "StartedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AssetClaims");

            migrationBuilder.DropTable(
                name: "AssetSourceSyncs");

            migrationBuilder.DropTable(
                name: "AssetSources");

            migrationBuilder.DropColumn(
                name: "RetiredAt",
                table: "Assets");

            migrationBuilder.DropColumn(
                name: "OwnerFilter",
                table: "AlertChannels");

            migrationBuilder.DropColumn(
                name: "TagFilter",
                table: "AlertChannels");
        }
    }
}
