//! Text from a function (its log lines, its response, its log tail) as fink shows it: control
//! characters other than newline and tab, C0 (ESC, CR, BEL, ...), DEL and C1, are written as
//! `\xNN`, so a line the function wrote cannot move the cursor, recolour or retitle the
//! terminal, or hide what was printed before it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with its control characters (except `\n` and `\t`) written as `\xNN`.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            // Every such character is below U+00A0: two hex digits.
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// C0 controls but newline and tab, DEL, and C1 controls.
fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_newlines_tabs_and_text_are_kept() {
        assert_eq!(escaped("plain text, ünïcödé ✓\n\tindented"), "plain text, ünïcödé ✓\n\tindented");
        assert!(matches!(escaped("plain"), Cow::Borrowed(_)));
        assert_eq!(escaped("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
        assert_eq!(escaped("\x1b]0;owned\x07title"), "\\x1b]0;owned\\x07title");
        assert_eq!(escaped("done\rhidden"), "done\\x0dhidden");
        assert_eq!(escaped("nul\0del\x7f"), "nul\\x00del\\x7f");
        assert_eq!(escaped("c1 \u{9b}31m csi \u{85} nel"), "c1 \\x9b31m csi \\x85 nel");
        // The character after C1 is text again.
        assert_eq!(escaped("\u{a0}\u{a9}"), "\u{a0}\u{a9}");
    }
}
