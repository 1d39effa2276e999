using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PortWatch.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OverviewFigures : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "RecordedAt",
                table: "TrendSnapshots",
                type: "TEXT",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            migrationBuilder.AddColumn<string>(
                name: "TopPorts",
                table: "TrendSnapshots",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TopServices",
                table: "TrendSnapshots",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Findings_CurrentState_Severity_Status",
                table: "Findings",
                columns: new[] { "CurrentState", "Severity", "Status" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Findings_CurrentState_Severity_Status",
                table: "Findings");

            migrationBuilder.DropColumn(
                name: "RecordedAt",
                table: "TrendSnapshots");

            migrationBuilder.DropColumn(
                name: "TopPorts",
                table: "TrendSnapshots");

            migrationBuilder.DropColumn(
                name: "TopServices",
                table: "TrendSnapshots");
        }
    }
}
