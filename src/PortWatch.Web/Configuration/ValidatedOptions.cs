using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace PortWatch.Web.Configuration;

/// <summary>
/// An options class bound to its section and checked when the host starts: a bad value stops
/// start-up with the attribute's own message (which names the setting, its range and default),
/// one line per bad value, instead of the framework's "DataAnnotation validation failed for ...".
/// </summary>
public static class ValidatedOptions
{
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>, DataAnnotationsMessages<T>>();
        return services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }

    private sealed class DataAnnotationsMessages<T> : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var results = new List<ValidationResult>();
            var context = new ValidationContext(options);
            // The validator skips the class's own checks once an attribute fails; the operator should see every bad value at once.
            if (!Validator.TryValidateObject(options, context, results, validateAllProperties: true) && options is IValidatableObject validatable)
                results.AddRange(validatable.Validate(context));
            return results.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(results.Select(r => r.ErrorMessage ?? $"{typeof(T).Name}: {string.Join(", ", r.MemberNames)} is not valid").Distinct());
        }
    }
}
