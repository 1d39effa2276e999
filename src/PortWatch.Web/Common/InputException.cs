namespace PortWatch.Web.Common;

/// <summary>
/// Input that cannot be accepted, with one message per field; nothing was changed. The UI shows
/// the messages next to the fields, the API returns them as RFC 7807 validation problems.
/// </summary>
public sealed class InputException(IReadOnlyDictionary<string, string[]> errors)
    : Exception(string.Join(" ", errors.SelectMany(e => e.Value)))
{
    public InputException(string field, string message) : this(new Dictionary<string, string[]> { [field] = [message] })
    {
    }

    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    /// <summary>Collects errors; <see cref="ThrowIfAny"/> throws them together.</summary>
    public sealed class Builder
    {
        private readonly Dictionary<string, List<string>> errors = [];

        public void Add(string field, string message) => (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);

        public void ThrowIfAny()
        {
            if (errors.Count > 0)
                throw new InputException(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
        }
    }
}
