namespace PortWatch.Web.Scans;

/// <summary>This process as a node of the scanning cluster (one per process; several may share a machine).</summary>
public static class ClusterNode
{
    public static readonly string Id = $"{Environment.MachineName}:{Environment.ProcessId}";
}
