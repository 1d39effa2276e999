using Radzen;

namespace PortWatch.Web.Components.Shared;

/// <summary>
/// Options for every dialog. Radzen's own first-field focus runs 500 ms after the dialog opens
/// (a timer in its script), so whoever had already clicked into another field and started typing
/// had the focus taken back mid-word and the rest of their text put in the first field. The
/// dialogs focus their first field themselves, on their first render.
/// </summary>
public static class DialogDefaults
{
    public static DialogOptions Sized(string width) => new() { Width = width, AutoFocusFirstElement = false };
}
