using System.Text.Json;
using System.Text.Json.Serialization;

namespace PortWatch.Cli.Scan;

/// <summary>
/// What `--resume FILE` keeps: the scan's definition, its seed and checkpoint, and the verdicts
/// other than "closed" found so far (closed is what is left over at the end).
/// </summary>
public sealed class ResumeState
{
    public int Version { get; set; } = 1;
    public List<string> Targets { get; set; } = [];
    public List<string> Exclusions { get; set; } = [];
    public string Ports { get; set; } = "";
    public ulong Seed { get; set; }
    public ulong Checkpoint { get; set; }
    public ulong TotalProbes { get; set; }
    public List<ResultLine> Results { get; set; } = [];

    /// <summary>SYN verdicts before the checkpoint that were counted, not listed: filtered ones, when only open ports are streamed.</summary>
    public ulong CountedFiltered { get; set; }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static ResumeState? Load(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<ResumeState>(File.ReadAllText(path), Json)
                ?? throw new ArgumentException($"--resume '{path}' is empty");
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"--resume '{path}' is not a PortWatch checkpoint file: {ex.Message}");
        }
    }

    /// <summary>Written to a temporary file and renamed, so a crash never leaves half a checkpoint.</summary>
    public void Save(string path)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>One port verdict as written by --format json and kept in checkpoint files.</summary>
public sealed record ResultLine(
    [property: JsonPropertyName("ip")] string Ip,
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("proto")] string Proto,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("ttl")] int? Ttl);
