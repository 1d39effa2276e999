using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PortWatch.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RunLeasesAndHeartbeats : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Phases were free text; they are the RunPhase names now.
            migrationBuilder.Sql("""
                UPDATE "ScanRuns" SET "Phase" = CASE
                    WHEN "Phase" = 'discovery' THEN 'Discovery'
                    WHEN "Phase" LIKE 'paused%' THEN 'Paused'
                    WHEN "Phase" = 'finalizing' THEN 'Finalizing'
                    WHEN "Phase" = 'service-detection' THEN 'ServiceDetection'
                    WHEN "Phase" = 'triage' THEN 'Triage'
                    WHEN "Phase" = 'alerts' THEN 'Alerts'
                    ELSE NULL END
                WHERE "Phase" IS NOT NULL
                """);

            migrationBuilder.AddColumn<DateTime>(
                name: "HeartbeatAt",
                table: "ScanShards",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "FinalizerLeaseUntil",
                table: "ScanRuns",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FinalizerNode",
                table: "ScanRuns",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "PausedUntil",
                table: "ScanRuns",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    FriendlyName = table.Column<string>(type: "TEXT", nullable: true),
                    Xml = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ScanNodes",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSeenAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ScanNodes", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ScanNodes_LastSeenAt",
                table: "ScanNodes",
                column: "LastSeenAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                UPDATE "ScanRuns" SET "Phase" = CASE
                    WHEN "Phase" = 'Discovery' THEN 'discovery'
                    WHEN "Phase" = 'Paused' THEN 'paused'
                    WHEN "Phase" = 'Finalizing' THEN 'finalizing'
                    WHEN "Phase" = 'ServiceDetection' THEN 'service-detection'
                    WHEN "Phase" = 'Triage' THEN 'triage'
                    WHEN "Phase" = 'Alerts' THEN 'alerts'
                    ELSE NULL END
                WHERE "Phase" IS NOT NULL
                """);

            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "ScanNodes");

            migrationBuilder.DropColumn(
                name: "HeartbeatAt",
                table: "ScanShards");

            migrationBuilder.DropColumn(
                name: "FinalizerLeaseUntil",
                table: "ScanRuns");

            migrationBuilder.DropColumn(
                name: "FinalizerNode",
                table: "ScanRuns");

            migrationBuilder.DropColumn(
                name: "PausedUntil",
                table: "ScanRuns");
        }
    }
}
