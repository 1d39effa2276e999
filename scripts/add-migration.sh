#!/usr/bin/env bash
# Adds an EF Core migration for both database providers (SQLite and PostgreSQL).
# usage: scripts/add-migration.sh NAME
# Microsoft.EntityFrameworkCore.Design is referenced only in design-time builds
# (PortWatchDesignTime=true, see src/PortWatch.Web/PortWatch.Web.csproj and docs/decisions/0003).
set -euo pipefail
name=${1:?usage: scripts/add-migration.sh NAME}
cd "$(dirname "$0")/.."
export PortWatchDesignTime=true
dotnet tool restore >/dev/null
dotnet build src/PortWatch.Web -v q -nologo
for provider in Sqlite Postgres; do
  dotnet ef migrations add "$name" --no-build --project src/PortWatch.Web \
    --context "${provider}PortWatchDbContext" \
    --output-dir "Data/Migrations/$provider" --namespace "PortWatch.Web.Data.Migrations.$provider"
done
# a normal build again, so the next plain 'dotnet build' does not reuse design-time outputs
unset PortWatchDesignTime
dotnet build src/PortWatch.Web -v q -nologo >/dev/null
