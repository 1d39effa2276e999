using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PortWatch.Web.Api;

/// <summary>
/// Enums in API bodies by name (any case) or number, as before, but only values the enum defines:
/// <c>"engine": 99</c> is a 400 naming the field and the allowed names, not a value stored that no
/// code handles. Flags enums accept any combination of their flags. Written by name.
/// </summary>
public sealed class StrictEnumConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T>
        where T : struct, Enum
    {
        private static readonly bool Flags = typeof(T).GetCustomAttribute<FlagsAttribute>() is not null;
        private static readonly string Allowed = string.Join(", ", Enum.GetNames<T>());

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            T value;
            if (reader.TokenType == JsonTokenType.String)
            {
                var text = reader.GetString() ?? "";
                if (text.Length == 0 || char.IsDigit(text[0]) || text[0] == '-' || !Enum.TryParse(text, ignoreCase: true, out value))
                    throw new JsonException($"'{Short(text)}' is not one of {Allowed}");
            }
            else if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
            {
                value = (T)Enum.ToObject(typeof(T), number);
            }
            else
            {
                throw new JsonException($"expected one of {Allowed}");
            }
            if (!Flags && !Enum.IsDefined(value))
                throw new JsonException($"{Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)} is not one of {Allowed}");
            return value;
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());

        private static string Short(string text) => text.Length > 40 ? text[..40] + "…" : text;
    }
}
