using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PortWatch.Web.Data.Migrations.Sqlite
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
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OwnerFilter",
                table: "AlertChannels",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TagFilter",
                table: "AlertChannels",
                type: "TEXT",
                maxLength: 50,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "AssetSources",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    CronExpression = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Settings = table.Column<string>(type: "TEXT", maxLength: 20000, nullable: false),
                    ProtectedSecrets = table.Column<string>(type: "TEXT", maxLength: 20000, nullable: true),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    MaxRetireShare = table.Column<double>(type: "REAL", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSyncAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastSyncStatus = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AssetSources", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AssetClaims",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AssetId = table.Column<int>(type: "INTEGER", nullable: false),
                    AssetSourceId = table.Column<int>(type: "INTEGER", nullable: false),
                    ExternalId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    LastSeenAt = table.Column<DateTime>(type: "TEXT", nullable: false)
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
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AssetSourceId = table.Column<int>(type: "INTEGER", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FinishedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    Added = table.Column<int>(type: "INTEGER", nullable: false),
                    Updated = table.Column<int>(type: "INTEGER", nullable: false),
                    Unretired = table.Column<int>(type: "INTEGER", nullable: false),
                    Retired = table.Column<int>(type: "INTEGER", nullable: false),
                    Unchanged = table.Column<int>(type: "INTEGER", nullable: false),
                    Rejected = table.Column<string>(type: "TEXT", nullable: false),
                    RejectedCount = table.Column<int>(type: "INTEGER", nullable: false),
                    RetiredTargets = table.Column<string>(type: "TEXT", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    HeldEntries = table.Column<string>(type: "TEXT", nullable: true)
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
