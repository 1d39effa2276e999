using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PortWatch.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ScanRunCancellation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "CancelRequestedAt",
                table: "ScanRuns",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Node",
                table: "ScanRuns",
                type: "TEXT",
                maxLength: 200,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CancelRequestedAt",
                table: "ScanRuns");

            migrationBuilder.DropColumn(
                name: "Node",
                table: "ScanRuns");
        }
    }
}
