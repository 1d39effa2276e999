using PortWatch.Web.Common;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;
using PortWatch.Web.Imports;
using PortWatch.Web.Inventory;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;
using PortWatch.Web.Reports;
using PortWatch.Web.Tickets;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Api;

/// <summary>
/// REST API under /api/v1. Every endpoint needs a signed-in user (cookie) or an API token; reads
/// are open to every role, changes need Analyst or Admin. Bad input is answered with RFC 7807
/// validation problems naming the fields. Described at /openapi/v1.json, browsable at /api/docs.
/// </summary>
public static class ApiEndpoints
{
    public const string ActPolicy = "act";
    private const int MaxPage = 1000;

    /// <summary>Room for a multipart form's boundaries and headers around an import file of the largest allowed size.</summary>
    private const long FormOverheadBytes = 64 * 1024;

    public static WebApplicationBuilder AddPortWatchApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<ExportGate>();
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        // Binding failures throw (and ApiExceptionHandler answers with where the body is wrong) instead of an empty 400.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "PortWatch API";
            document.Info.Description = "Assets, exceptions, schedules, runs, findings, imports and exports. Authenticate with 'Authorization: Bearer pw_...' (a personal API token, created under API tokens) or the sign-in cookie.";
            return Task.CompletedTask;
        }));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new StrictEnumConverter()));
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ActPolicy, p => p.RequireRole(Roles.Admin, Roles.Analyst))
            .AddPolicy(UserEndpoints.AdminPolicy, p => p.RequireRole(Roles.Admin));
        return builder;
    }

    public static WebApplication MapPortWatchApi(this WebApplication app)
    {
        // Errors without a body on API paths (a JSON body that does not parse, 401, 403, 404) get an RFC 7807 body too.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.UseStatusCodePages());
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/openapi/v1.json", "PortWatch API v1");
            o.RoutePrefix = "api/docs";
            o.DocumentTitle = "PortWatch API";
        });

        var api = app.MapGroup("/api/v1").RequireAuthorization().AddEndpointFilter(TranslateErrors).WithTags("PortWatch");
        MapAssets(api.MapGroup("/assets").WithTags("Assets"));
        MapExceptions(api.MapGroup("/exceptions").WithTags("Exceptions"));
        MapSchedules(api.MapGroup("").WithTags("Schedules and profiles"));
        MapRuns(api.MapGroup("/runs").WithTags("Runs"));
        MapFindings(api.MapGroup("/findings").WithTags("Findings"));
        MapImports(api.MapGroup("/imports").WithTags("Imports"));
        MapTokens(api.MapGroup("/tokens").WithTags("API tokens"));
        UserEndpoints.MapUsers(api.MapGroup("/users").WithTags("Users"));
        SourceEndpoints.MapAssetSources(api.MapGroup("/asset-sources").WithTags("Asset sources"));
        SourceEndpoints.MapAlertChannels(api.MapGroup("/alert-channels").WithTags("Alert channels"));
        return app;
    }

    /// <summary>
    /// Every error on /api is an RFC 7807 problem: input errors are 400 validation problems naming
    /// the field; a body that cannot be read (a multipart form without boundary, a truncated upload)
    /// is 400, one over the size limit 413; a database that refuses writes for now is 503 (nothing
    /// was stored: try again); anything else is a 500 problem with a trace id and no internals.
    /// </summary>
    private static async ValueTask<object?> TranslateErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await TranslateInputErrors(context, next);
        }
        catch (BadHttpRequestException ex)
        {
            return Results.Problem(statusCode: ex.StatusCode, title: ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large" : "The request cannot be read",
                detail: ex.Message);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request body cannot be read", detail: ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && DatabaseWriteHealth.IsTransient(ex))
        {
            context.HttpContext.Response.Headers.RetryAfter = "5";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The database refuses changes for now",
                detail: $"Nothing was stored; try again shortly. ({DatabaseWriteHealth.Describe(ex)})");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiEndpoints)).LogError(ex, "API request {Path} failed", context.HttpContext.Request.Path);
            return Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "PortWatch could not complete the request",
                extensions: new Dictionary<string, object?> { ["traceId"] = context.HttpContext.TraceIdentifier });
        }
    }

    private static async ValueTask<object?> TranslateInputErrors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (InputException ex)
        {
            return Results.ValidationProblem(ex.Errors.ToDictionary(e => e.Key, e => e.Value));
        }
        catch (ScanRequestException ex)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["targets"] = [ex.Message] });
        }
        catch (ScanFileTooLargeException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The file is too large", detail: ex.Message);
        }
        catch (ScanFileException ex)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["file"] = [ex.Message] }, title: "The file cannot be imported");
        }
    }

    private static string UserName(HttpContext context) => context.User.Identity?.Name ?? "unknown";

    private static (int Skip, int Take) Paging(int? skip, int? take) => (Math.Max(0, skip ?? 0), Math.Clamp(take ?? 100, 1, MaxPage));

    private static void MapAssets(RouteGroupBuilder group)
    {
        group.MapGet("/", async (IDbContextFactory<PortWatchDbContext> dbFactory, string? tag, int? skip, int? take) =>
        {
            var (s, t) = Paging(skip, take);
            await using var db = await dbFactory.CreateDbContextAsync();
            var query = db.Assets.AsNoTracking();
            if (!string.IsNullOrWhiteSpace(tag))
                query = query.Where(a => a.Tags.Contains(tag));
            var total = await query.CountAsync();
            var items = await query.OrderBy(a => a.RangeStart).Skip(s).Take(t).ToListAsync();
            return TypedResults.Ok(new Page<AssetDto>(total, s, t, items.Select(AssetDto.From).ToList()));
        }).WithSummary("List assets (optionally by tag)");

        group.MapPost("/bulk", async (AssetService assets, HttpContext context, List<AssetInput> items, string? source) =>
        {
            if (items.Count > 50_000)
                throw new InputException("items", "at most 50,000 assets per request");
            var result = await assets.UpsertAsync(items, UserName(context), string.IsNullOrWhiteSpace(source) ? "api" : source.Trim()[..Math.Min(50, source.Trim().Length)]);
            return TypedResults.Ok(result);
        }).RequireAuthorization(ActPolicy).WithSummary("Add or update assets by external id (per source) or target: idempotent inventory sync");

        group.MapDelete("/{id:int}", async (AssetService assets, HttpContext context, int id) =>
        {
            await assets.DeleteAsync(id, UserName(context));
            return TypedResults.NoContent();
        }).RequireAuthorization(ActPolicy).WithSummary("Delete an asset (its findings stay)");
    }

    private static void MapExceptions(RouteGroupBuilder group)
    {
        group.MapGet("/", async (IDbContextFactory<PortWatchDbContext> dbFactory) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            return TypedResults.Ok((await db.ExceptionRules.AsNoTracking().OrderBy(r => r.Id).ToListAsync()).Select(ExceptionRuleDto.From).ToList());
        }).WithSummary("List exceptions");
        group.MapPost("/", async (ExceptionRuleService rules, HttpContext context, ExceptionRuleInput input) =>
            TypedResults.Created($"/api/v1/exceptions", ExceptionRuleDto.From(await rules.CreateAsync(input, UserName(context)))))
            .RequireAuthorization(ActPolicy).WithSummary("Create an exception (applied to matching findings at once)");
        group.MapPut("/{id:int}", async (ExceptionRuleService rules, HttpContext context, int id, ExceptionRuleInput input) =>
            TypedResults.Ok(ExceptionRuleDto.From(await rules.UpdateAsync(id, input, UserName(context)))))
            .RequireAuthorization(ActPolicy).WithSummary("Change an exception");
        group.MapDelete("/{id:int}", async (ExceptionRuleService rules, HttpContext context, int id) =>
        {
            await rules.DeleteAsync(id, UserName(context));
            return TypedResults.NoContent();
        }).RequireAuthorization(ActPolicy).WithSummary("Delete an exception (its findings go back to Unreviewed)");
    }

    private static void MapSchedules(RouteGroupBuilder group)
    {
        group.MapGet("/schedules", async (IDbContextFactory<PortWatchDbContext> dbFactory) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var schedules = await db.Schedules.AsNoTracking().OrderBy(s => s.Name).ToListAsync();
            return TypedResults.Ok(schedules.Select(s => new
            {
                s.Id, s.Name, s.CronExpression, s.TimeZoneId, s.ScanProfileId, s.AssetSelection, s.AssetTag, s.AssetIds, s.Enabled, s.WindowStart, s.WindowEnd,
                NextFireTimes = ScheduleSynchronizer.NextFireTimes(s.CronExpression, s.TimeZoneId, DateTimeOffset.UtcNow, 3),
                NextStarts = ScheduleSynchronizer.NextStarts(s, DateTimeOffset.UtcNow, 3),
            }));
        }).WithSummary("List schedules with their next fire times and when their next runs start (fire times moved into the window)");
        group.MapPost("/schedules", async (ScheduleService schedules, HttpContext context, Schedule input) =>
        {
            input.Id = 0;
            var saved = await schedules.SaveScheduleAsync(input, UserName(context));
            return TypedResults.Created($"/api/v1/schedules/{saved.Id}", new { saved.Id });
        }).RequireAuthorization(ActPolicy).WithSummary("Create a schedule");
        group.MapPut("/schedules/{id:int}", async (ScheduleService schedules, HttpContext context, int id, Schedule input) =>
        {
            input.Id = id;
            await schedules.SaveScheduleAsync(input, UserName(context));
            return TypedResults.NoContent();
        }).RequireAuthorization(ActPolicy).WithSummary("Change a schedule");
        group.MapDelete("/schedules/{id:int}", async (ScheduleService schedules, HttpContext context, int id) =>
        {
            await schedules.DeleteScheduleAsync(id, UserName(context));
            return TypedResults.NoContent();
        }).RequireAuthorization(ActPolicy).WithSummary("Delete a schedule");

        group.MapGet("/profiles", async (IDbContextFactory<PortWatchDbContext> dbFactory) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            return TypedResults.Ok(await db.ScanProfiles.AsNoTracking().OrderBy(p => p.Name).ToListAsync());
        }).WithSummary("List scan profiles");
        group.MapPost("/profiles", async (ScheduleService schedules, HttpContext context, ScanProfile input) =>
        {
            input.Id = 0;
            var saved = await schedules.SaveProfileAsync(input, UserName(context));
            return TypedResults.Created($"/api/v1/profiles/{saved.Id}", saved);
        }).RequireAuthorization(ActPolicy).WithSummary("Create a scan profile");
        group.MapPut("/profiles/{id:int}", async (ScheduleService schedules, HttpContext context, int id, ScanProfile input) =>
        {
            input.Id = id;
            return TypedResults.Ok(await schedules.SaveProfileAsync(input, UserName(context)));
        }).RequireAuthorization(ActPolicy).WithSummary("Change a scan profile");
        group.MapDelete("/profiles/{id:int}", async (ScheduleService schedules, HttpContext context, int id) =>
        {
            await schedules.DeleteProfileAsync(id, UserName(context));
            return TypedResults.NoContent();
        }).RequireAuthorization(ActPolicy).WithSummary("Delete a scan profile no schedule uses");
    }

    private static void MapRuns(RouteGroupBuilder group)
    {
        group.MapGet("/", async (IDbContextFactory<PortWatchDbContext> dbFactory, int? skip, int? take) =>
        {
            var (s, t) = Paging(skip, take);
            await using var db = await dbFactory.CreateDbContextAsync();
            var total = await db.ScanRuns.CountAsync();
            var items = await db.ScanRuns.AsNoTracking().OrderByDescending(r => r.Id).Skip(s).Take(t).ToListAsync();
            return TypedResults.Ok(new Page<RunDto>(total, s, t, items.Select(RunDto.From).ToList()));
        }).WithSummary("List runs, newest first");

        group.MapGet("/{id:long}", async Task<IResult> (IDbContextFactory<PortWatchDbContext> dbFactory, long id) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var run = await db.ScanRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id);
            if (run is null)
                return Results.Problem(statusCode: 404, title: $"run {id} does not exist");
            var coverage = await db.ScanTargetCoverage.AsNoTracking().Where(c => c.ScanRunId == id).OrderBy(c => c.AddressKey).Take(10_000)
                .Select(c => new CoverageDto(c.Address, c.Status, c.PortsPlanned, c.PortsAnswered, c.Note)).ToListAsync();
            return Results.Ok(new { Run = RunDto.From(run), Coverage = coverage });
        }).WithSummary("A run's status, counters and coverage per target");

        group.MapGet("/{id:long}/changes", async (IDbContextFactory<PortWatchDbContext> dbFactory, long id) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var changes = await db.FindingEvents.AsNoTracking().Where(e => e.ScanRunId == id).OrderBy(e => e.Id).Take(100_000)
                .Select(e => new ChangeDto(e.FindingId, e.Finding!.Address, e.Finding.Port, e.Finding.Protocol.Name(), e.Kind,
                    e.ServiceName, e.Product, e.Version, e.Detail))
                .ToListAsync();
            return TypedResults.Ok(changes);
        }).WithSummary("A run's change list: new, reopened and closed ports, changed services, coverage lost, alerts");

        group.MapPost("/", async (ScanQueue queue, HttpContext context, StartRunRequest request) =>
        {
            var id = await queue.QueueAsync(new ScanRequest
            {
                Targets = request.Targets, AssetIds = request.AssetIds ?? [], Tag = request.Tag, ProfileId = request.ProfileId,
                RequestedBy = UserName(context), Trigger = ScanTrigger.Api,
            });
            return TypedResults.Accepted($"/api/v1/runs/{id}", new { Id = id });
        }).RequireAuthorization(ActPolicy).WithSummary("Start a scan of targets, assets or a tag (within scope)");

        group.MapPost("/{id:long}/cancel", async Task<IResult> (ScanQueue queue, HttpContext context, long id) =>
            await queue.CancelAsync(id, UserName(context), context.RequestAborted) ? Results.Accepted() : Results.Problem(statusCode: 409, title: $"run {id} is not queued or running"))
            .RequireAuthorization(ActPolicy).WithSummary("Cancel a queued or running run (it stops within seconds)");

        group.MapGet("/{id:long}/export", async Task<IResult> (IDbContextFactory<PortWatchDbContext> dbFactory, HttpContext context, long id, string? format) =>
        {
            if (ParseFormat(format) is not { } f)
                return FormatProblem(format);
            await using var db = await dbFactory.CreateDbContextAsync();
            var run = await db.ScanRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id);
            if (run is null)
                return Results.Problem(statusCode: 404, title: $"run {id} does not exist");
            var info = new ExportInfo($"PortWatch run #{id}: {Short(run.TargetSpec)}", DateTime.UtcNow, run.ScannedTcpPorts, run.ScannedUdpPorts, run.StartedAt, run.FinishedAt);
            return new ExportResult(f, ExportQueries.RunAsync(dbFactory, id, context.RequestAborted), info, $"portwatch-run-{id}");
        }).WithSummary("Export a run's open ports: format csv, json, xml (Nmap) or html");
    }

    private static void MapFindings(RouteGroupBuilder group)
    {
        group.MapGet("/", async Task<IResult> (IDbContextFactory<PortWatchDbContext> dbFactory, HttpContext context, [AsParameters] FindingFilter filter, int? skip, int? take) =>
        {
            var query = filter.ToQuery(UserName(context));
            if (query.SearchError is { } error)
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["search"] = [error] });
            var (s, t) = Paging(skip, take);
            await using var db = await dbFactory.CreateDbContextAsync();
            var filtered = query.Apply(db.Findings.AsNoTracking(), DateTime.UtcNow);
            var total = await filtered.CountAsync();
            var items = await filtered.OrderByDescending(f => f.LastSeenAt).ThenBy(f => f.Id).Skip(s).Take(t).ToListAsync();
            return Results.Ok(new Page<FindingDto>(total, s, t, items.Select(FindingDto.From).ToList()));
        }).WithSummary("Query findings with the same filters as the dashboard");

        group.MapPost("/triage", async (FindingTriageService triage, HttpContext context, TriageRequest request) =>
        {
            var user = UserName(context);
            var ids = request.Ids ?? [];
            var changed = request.Action?.ToLowerInvariant() switch
            {
                "expected" => await triage.MarkExpectedAsync(ids, user, request.Note, request.Exception is { } e
                    ? new ExpectedExceptionRequest(e.Reason, e.Approver, e.ExpiresAt, e.BindToService, e.Severity) : null),
                "abnormal" => await triage.MarkAbnormalAsync(ids, user, request.Severity, request.Assignee, request.Note),
                "resolve" => await triage.ResolveAsync(ids, user, request.Note),
                "reopen" => await triage.ReopenAsync(ids, user, request.Note),
                _ => throw new InputException("action", $"'{Scanning.SafeText.ForTerminal(request.Action, 40)}' is not one of expected, abnormal, resolve, reopen"),
            };
            return TypedResults.Ok(new { Changed = changed });
        }).RequireAuthorization(ActPolicy).WithSummary("Triage findings: expected (optionally with exceptions), abnormal, resolve, reopen; a note becomes a comment");

        group.MapGet("/{id:long}", async Task<IResult> (IDbContextFactory<PortWatchDbContext> dbFactory, long id) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var finding = await db.Findings.AsNoTracking().SingleOrDefaultAsync(f => f.Id == id);
            if (finding is null)
                return Results.Problem(statusCode: 404, title: $"finding {id} does not exist");
            var comments = await db.FindingComments.AsNoTracking().Where(c => c.FindingId == id).OrderBy(c => c.At).ThenBy(c => c.Id).Take(1000).ToListAsync();
            var tickets = await db.FindingTickets.AsNoTracking().Where(t => t.FindingId == id).OrderByDescending(t => t.CreatedAt).ToListAsync();
            var history = await db.FindingEvents.AsNoTracking().Where(e => e.FindingId == id).OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(500).ToListAsync();
            var detection = await FindingDetection.OfAsync(db, id);
            return Results.Ok(new FindingDetailDto(FindingDto.From(finding), comments.Select(CommentDto.From).ToList(), tickets.Select(TicketDto.From).ToList(),
                history.Select(FindingEventDto.From).ToList(), detection.Kind, detection.RunId));
        }).WithSummary("One finding with its discussion, tickets and history");

        group.MapPost("/{id:long}/comments", async (FindingTriageService triage, HttpContext context, long id, CommentRequest request) =>
            TypedResults.Ok(CommentDto.From(await triage.CommentAsync(id, UserName(context), request.Text ?? ""))))
            .RequireAuthorization(ActPolicy).WithSummary("Add a comment to a finding's discussion (comments are never edited or deleted)");

        group.MapPost("/assign", async (FindingTriageService triage, HttpContext context, AssignRequest request) =>
        {
            var result = await triage.AssignAsync(request.Ids ?? [], UserName(context), request.Assignee, request.Notify);
            return TypedResults.Ok(new { result.Changed, Mailed = request.Notify && request.Assignee is not null && result.MailProblem is null, result.MailProblem });
        }).RequireAuthorization(ActPolicy).WithSummary("Assign findings to a user (null: unassign); notify=true e-mails the assignee");

        group.MapPost("/tickets", async Task<IResult> (TicketService tickets, HttpContext context, TicketRequest request) =>
        {
            try
            {
                return TypedResults.Ok(await tickets.CreateAsync(request.Ids ?? [], request.System ?? "", UserName(context)));
            }
            catch (TicketException ex)
            {
                return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The ticket system did not make the ticket", detail: ex.Message);
            }
        }).RequireAuthorization(ActPolicy).WithSummary("One ticket for the findings in Jira (system=jira) or through the ticket webhook (system=webhook); its link is stored on each");

        group.MapGet("/export", IResult (IDbContextFactory<PortWatchDbContext> dbFactory, HttpContext context, [AsParameters] FindingFilter filter, string? format, bool? inline) =>
        {
            if (ParseFormat(format) is not { } f)
                return FormatProblem(format);
            var query = filter.ToQuery(UserName(context));
            if (query.SearchError is { } error)
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["search"] = [error] });
            var info = new ExportInfo("PortWatch findings report", DateTime.UtcNow, null, null, null, null);
            return new ExportResult(f, ExportQueries.FindingsAsync(dbFactory, query, DateTime.UtcNow, context.RequestAborted), info, "portwatch-findings", inline == true);
        }).WithSummary("Export findings (any filter): format csv, json, xml (Nmap), html (report) or defectdojo (DefectDojo's Generic Findings Import); inline=true shows it in the browser");
    }

    private static void MapImports(RouteGroupBuilder group)
    {
        group.MapPost("/", async Task<IResult> (ScanImportService imports, HttpContext context, string? format, string? name, bool? preview, bool? closeMissing) =>
        {
            ScanFileFormat? parsedFormat = format?.ToLowerInvariant() switch
            {
                null or "" or "auto" => null,
                "nmap-xml" or "xml" => ScanFileFormat.NmapXml,
                "masscan-json" or "json" => ScanFileFormat.MasscanJson,
                "masscan-list" or "list" => ScanFileFormat.MasscanList,
                _ => throw new InputException("format", $"'{format}' is not one of nmap-xml, masscan-json, masscan-list, auto"),
            };
            byte[] content;
            var fileName = name ?? "upload";
            // One limit: Imports:MaxFileMegabytes, not Kestrel's default body cap (30,000,000 bytes) or the form reader's.
            var allowed = imports.MaxBytes + FormOverheadBytes;
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
                bodyLimit.MaxRequestBodySize = allowed;
            if (context.Request.ContentLength > allowed)
                throw new ScanFileTooLargeException(imports.TooLarge);
            try
            {
                if (context.Request.HasFormContentType)
                {
                    context.Features.Set<IFormFeature>(new FormFeature(context.Request, new FormOptions { MultipartBodyLengthLimit = allowed, BufferBodyLengthLimit = allowed }));
                    var form = await context.Request.ReadFormAsync(context.RequestAborted);
                    var file = (form.Files.Count > 0 ? form.Files[0] : null) ?? throw new InputException("file", "the form has no file");
                    if (file.Length > imports.MaxBytes)
                        throw new ScanFileTooLargeException(imports.TooLarge);
                    fileName = file.FileName;
                    await using var stream = file.OpenReadStream();
                    content = await imports.ReadLimitedAsync(stream, context.RequestAborted, file.Length);
                }
                else
                {
                    content = await imports.ReadLimitedAsync(context.Request.Body, context.RequestAborted, context.Request.ContentLength);
                }
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw new ScanFileTooLargeException(imports.TooLarge);
            }
            catch (InvalidDataException ex) when (ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
            {
                throw new ScanFileTooLargeException(imports.TooLarge);
            }
            if (preview == true)
                return Results.Ok(await imports.PreviewAsync(content, parsedFormat, closeMissing == true, context.RequestAborted));
            var result = await imports.ImportAsync(content, parsedFormat, fileName, UserName(context), closeMissing == true, context.RequestAborted);
            return Results.Created($"/api/v1/runs/{result.RunId}", result);
        }).RequireAuthorization(ActPolicy).DisableAntiforgery() // cookie callers are held to the cross-site guard (Http/CrossSiteRequestGuard)
            .WithSummary("Import Nmap XML (-oX) or masscan JSON/list output as a run (body: the file, or a multipart form with one file). " +
                "preview=true: what it would change, nothing stored. closeMissing=true: also close known open ports the file shows not open (never by default).");
    }

    private static void MapTokens(RouteGroupBuilder group)
    {
        group.MapGet("/", async (ApiTokenService tokens, UserManager<PortWatchUser> users, HttpContext context) =>
            TypedResults.Ok(await tokens.ListAsync(users.GetUserId(context.User)!))).WithSummary("Your API tokens (never their secrets)");
        group.MapPost("/", async (ApiTokenService tokens, UserManager<PortWatchUser> users, HttpContext context, CreateTokenRequest request) =>
        {
            var (token, info) = await tokens.CreateAsync(users.GetUserId(context.User)!, UserName(context), request.Name, request.ExpiresAt);
            return TypedResults.Created($"/api/v1/tokens/{info.Id}", new CreatedToken(token, info));
        }).WithSummary("Create a token; the response is the only time its secret is shown");
        group.MapDelete("/{id:int}", async Task<IResult> (ApiTokenService tokens, UserManager<PortWatchUser> users, HttpContext context, int id) =>
            await tokens.RevokeAsync(users.GetUserId(context.User)!, UserName(context), id) ? Results.NoContent() : Results.Problem(statusCode: 404, title: $"you have no token {id}"))
            .WithSummary("Revoke one of your tokens");
    }

    public static ExportFormat? ParseFormat(string? format) => format?.ToLowerInvariant() switch
    {
        "csv" => ExportFormat.Csv,
        "json" => ExportFormat.Json,
        "xml" or "nmap-xml" => ExportFormat.Xml,
        "html" => ExportFormat.Html,
        "defectdojo" => ExportFormat.DefectDojo,
        _ => null,
    };

    private static IResult FormatProblem(string? format) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { ["format"] = [$"'{Scanning.SafeText.ForTerminal(format, 40)}' is not one of csv, json, xml, html, defectdojo"] });

    private static string Short(string text) => text.Length > 80 ? text[..80] + "…" : text;
}

/// <summary>The findings filter as query-string parameters (the dashboard's filters).</summary>
public sealed record FindingFilter(FindingQuickFilter? Quick, string? Search, TriageStatus? Status, Severity? MinSeverity, PortState? State, string? Protocol, int? AssetId)
{
    /// <exception cref="InputException">a parameter names a value that does not exist (quick=999 would otherwise mean "everything").</exception>
    /// <param name="user">The caller, for quick=Mine.</param>
    public FindingQuery ToQuery(string? user = null)
    {
        var errors = new InputException.Builder();
        Defined(errors, "quick", Quick);
        Defined(errors, "status", Status);
        Defined(errors, "minSeverity", MinSeverity);
        Defined(errors, "state", State);
        if (Protocol is { Length: > 0 } p && p.ToLowerInvariant() is not ("tcp" or "udp"))
            errors.Add("protocol", $"'{(p.Length > 20 ? p[..20] : p)}' is not tcp or udp");
        errors.ThrowIfAny();
        return Build() with { CurrentUser = user };
    }

    private static void Defined<T>(InputException.Builder errors, string name, T? value)
        where T : struct, Enum
    {
        if (value is { } v && !Enum.IsDefined(v))
            errors.Add(name, $"{Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)} is not one of {string.Join(", ", Enum.GetNames<T>())}");
    }

    private FindingQuery Build() => new()
    {
        Quick = Quick ?? FindingQuickFilter.All, Search = Search, Status = Status, MinimumSeverity = MinSeverity, State = State, AssetId = AssetId,
        Protocol = Protocol?.ToLowerInvariant() switch { "tcp" => TransportProtocol.Tcp, "udp" => TransportProtocol.Udp, _ => null },
    };
}

/// <summary>Streams an export to the response with a download file name.</summary>
public sealed class ExportResult(ExportFormat format, IAsyncEnumerable<ExportRow> rows, ExportInfo info, string baseName, bool inline = false) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var user = httpContext.User.Identity?.Name ?? "anonymous";
        using var slot = httpContext.RequestServices.GetRequiredService<ExportGate>().TryEnter(user);
        if (slot is null)
        {
            httpContext.Response.Headers.RetryAfter = "10";
            await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many exports at once",
                detail: $"{ExportGate.PerUser} exports of yours are still running; try again when one has finished.").ExecuteAsync(httpContext);
            return;
        }
        httpContext.Response.ContentType = ExportWriters.ContentType(format);
        httpContext.Response.Headers.ContentDisposition = $"{(inline ? "inline" : "attachment")}; filename=\"{baseName}.{ExportWriters.Extension(format)}\"";
        // An HTML report opened from the download must not run anything even if encoding failed somewhere.
        httpContext.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
        httpContext.Response.Headers.XContentTypeOptions = "nosniff";
        var started = System.Diagnostics.Stopwatch.StartNew();
        await ExportWriters.WriteAsync(format, rows, info, httpContext.Response.Body, httpContext.RequestAborted);
        Metrics.PortWatchMetrics.ExportSeconds.Record(started.Elapsed.TotalSeconds);
    }
}
