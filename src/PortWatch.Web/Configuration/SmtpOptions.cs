using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

/// <summary>Section "Smtp": the mail server e-mail alert channels send through.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    /// <summary>Empty: e-mail channels cannot send (their deliveries fail with that reason).</summary>
    public string? Host { get; set; }

    [Range(1, 65535, ErrorMessage = "Smtp:Port must be 1 to 65535 (default 25).")]

    public int Port { get; set; } = 25;

    public bool EnableSsl { get; set; }

    public string? UserName { get; set; }

    public string? Password { get; set; }

    [Required(ErrorMessage = "Smtp:From must be an e-mail address (default portwatch@localhost).")]

    public string From { get; set; } = "portwatch@localhost";

    [Range(100, 600_000, ErrorMessage = "Smtp:TimeoutMs must be 100 to 600000 (default 15000).")]

    public int TimeoutMs { get; set; } = 15_000;
}
