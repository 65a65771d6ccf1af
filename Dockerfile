# syntax=docker/dockerfile:1
# Multi-stage build: restore from project files first (cached layer), then publish with --no-restore,
# then run as a non-root user on port 8080 in the slim ASP.NET runtime image.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/CdsHooks.Fhir/CdsHooks.Fhir.csproj src/CdsHooks.Fhir/
COPY src/CdsHooks.Protocol/CdsHooks.Protocol.csproj src/CdsHooks.Protocol/
COPY src/CdsHooks.Rls/CdsHooks.Rls.csproj src/CdsHooks.Rls/
COPY src/CdsHooks.Storage/CdsHooks.Storage.csproj src/CdsHooks.Storage/
COPY src/CdsHooks.Api/CdsHooks.Api.csproj src/CdsHooks.Api/
RUN dotnet restore src/CdsHooks.Api/CdsHooks.Api.csproj
COPY src/ src/
RUN dotnet publish src/CdsHooks.Api/CdsHooks.Api.csproj -c Release -o /app --no-restore /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
COPY --from=build /app ./
# The embedded SQLite store (feedback, card log) is /app/data/cds.db: writable by the app user; mount a volume
# there to keep it, or set Storage__Provider=postgres for a shared database.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data
VOLUME /app/data
# The image's built-in non-root user (uid 1654).
USER $APP_UID
EXPOSE 8080
# Orchestrators probe GET /health/live and GET /health/ready (the runtime image has no curl).
ENTRYPOINT ["dotnet", "CdsHooks.Api.dll"]
