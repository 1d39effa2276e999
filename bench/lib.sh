# Shared by the dashboard benchmarks: start PortWatch on a data directory and sign in as admin.
# Expects BASE, DATA, PASSWORD and JAR; leaves the server's pid in SERVER. Talks only to 127.0.0.1.

# start_server [NAME=VALUE ...]: extra settings as environment variables (names may contain dots).
start_server() {
  env PortWatch__DataDirectory="$DATA" Admin__Password="$PASSWORD" ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning "$@" \
    dotnet src/PortWatch.Web/bin/Release/net10.0/PortWatch.Web.dll --urls "$BASE" >"$DATA/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 120); do curl -fs "$BASE/health" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "$BASE/health" >/dev/null || { echo "server did not start; see $DATA/server.log" >&2; exit 1; }
}

# sign_in: through the real form (antiforgery token and cookie), into $JAR.
sign_in() {
  local token
  token=$(curl -s -c "$JAR" -b "$JAR" "$BASE/account/login" | sed -n 's/.*name="__RequestVerificationToken" value="\([^"]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -c "$JAR" -b "$JAR" -X POST "$BASE/account/login" \
    --data-urlencode "_handler=login" --data-urlencode "__RequestVerificationToken=$token" \
    --data-urlencode "Input.UserName=admin" --data-urlencode "Input.Password=$PASSWORD"
}
