namespace PortWatch.Scanning.Targets;

/// <summary>A target or port specification that cannot be used; <see cref="Token"/> is the offending piece of input.</summary>
public sealed class TargetSpecException : FormatException
{
    public TargetSpecException(string token, string reason)
        : base($"'{token}': {reason}")
    {
        Token = token;
        Reason = reason;
    }

    public TargetSpecException() : this("", "invalid specification") { }

    /// <summary>A message that names its own tokens (several of them, or none).</summary>
    public TargetSpecException(string message) : base(message)
    {
        Reason = message;
    }

    public TargetSpecException(string message, Exception innerException) : base(message, innerException)
    {
        Token = "";
        Reason = message;
    }

    public string Token { get; } = "";

    public string Reason { get; } = "";
}
