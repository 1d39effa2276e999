namespace PortWatch.Web.Configuration;

/// <summary>Section "Smtp": the mail server e-mail alert channels send through.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    /// <summary>Empty: e-mail channels cannot send (their deliveries fail with that reason).</summary>
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    public bool EnableSsl { get; set; }

    public string? UserName { get; set; }

    public string? Password { get; set; }

    public string From { get; set; } = "portwatch@localhost";

    public int TimeoutMs { get; set; } = 15_000;
}
