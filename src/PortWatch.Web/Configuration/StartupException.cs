namespace PortWatch.Web.Configuration;

/// <summary>Configuration or environment that keeps PortWatch from starting; the message is shown to the operator as is.</summary>
public sealed class StartupException : Exception
{
    public StartupException(string message) : base(message) { }

    public StartupException(string message, Exception innerException) : base(message, innerException) { }

    public StartupException() { }
}
