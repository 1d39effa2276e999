# PortWatch: dashboard, scheduler and scan engine in one image.
#   docker build -t portwatch .
#   docker run -d --name portwatch -p 8080:8080 -v portwatch-data:/data \
#     --cap-add NET_RAW -e Admin__Password='Choose-4-long-one' portwatch
# The first administrator's password must pass the password policy (10+ characters with an upper-
# and a lower-case letter and a digit), or the container stops at start with that reason.
# NET_RAW lets the non-root process open raw sockets for SYN scanning; without it PortWatch
# falls back to connect() scanning and says so in the log.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the project files alone first: this layer is rebuilt only when packages change, not on every source edit.
COPY Directory.Build.props Directory.Packages.props Dashboard.sln ./
COPY build/ build/
COPY src/PortWatch.Scanning/PortWatch.Scanning.csproj src/PortWatch.Scanning/
COPY src/PortWatch.Web/PortWatch.Web.csproj src/PortWatch.Web/
COPY src/PortWatch.Cli/PortWatch.Cli.csproj src/PortWatch.Cli/
RUN dotnet restore src/PortWatch.Web \
 && dotnet restore src/PortWatch.Cli
COPY . .
RUN dotnet publish src/PortWatch.Web -c Release --no-restore -o /app/web \
 && dotnet publish src/PortWatch.Cli -c Release --no-restore -o /app/cli

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# libcap2-bin: setcap below; curl: the health check
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /app
# A file capability on the runtime host gives the non-root user raw sockets, provided the
# container's bounding set has NET_RAW (Docker's default has it; '--cap-add NET_RAW' makes sure).
RUN setcap cap_net_raw+ep "$(readlink -f /usr/share/dotnet/dotnet)" \
 && printf '#!/bin/sh\nexec dotnet /app/cli/portwatch.dll "$@"\n' > /usr/local/bin/portwatch \
 && chmod +x /usr/local/bin/portwatch \
 && mkdir -p /data && chown app:app /data

# The content root is where the web host was published, so its appsettings.json is loaded.
WORKDIR /app/web
ENV ASPNETCORE_URLS=http://+:8080 \
    PortWatch__DataDirectory=/data
VOLUME /data
EXPOSE 8080
USER app
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["dotnet", "/app/web/PortWatch.Web.dll"]
