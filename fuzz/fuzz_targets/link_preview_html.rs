//! The link-preview HTML reader: `huddle::clients::linkpreview::html::{page_meta,
//! decode_entities}`.
//!
//! Input: a page body, converted like the previewer does
//! (`String::from_utf8_lossy`). See README.md for the invariants.

#![no_main]

use huddle::clients::linkpreview::html::{decode_entities, page_meta, PageMeta};
use huddle::http::pages::escape_html;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);

    // page_meta: every field is cleaned text no longer than the page.
    let meta = page_meta(&html);
    assert_eq!(page_meta(&html), meta, "page_meta is deterministic");
    check_meta(&meta, html.len());

    // decode_entities never grows the text (every reference is at least as
    // long as its character's UTF-8), leaves text without '&' alone, and
    // undoes escaping.
    let decoded = decode_entities(&html);
    assert!(
        decoded.len() <= html.len(),
        "decoded {} bytes from {}",
        decoded.len(),
        html.len()
    );
    if !html.contains('&') {
        assert_eq!(decoded, html);
    }
    assert!(!decoded.contains('\0') || html.contains('\0'), "{html:?}");
    let escaped = escape_html(&html);
    assert_eq!(decode_entities(&escaped), html, "escaped {escaped:?}");

    // Any text, escaped into an og:title or a <title>, reads back as that text
    // with its white space collapsed (and without NUL characters).
    let expected = collapse(&html.replace('\0', ""));
    let in_meta = format!("<head><meta property=\"og:title\" content=\"{escaped}\">");
    assert_eq!(page_meta(&in_meta).title, expected, "{in_meta:?}");
    let in_title = format!("<head><title>{escaped}</title></head>");
    assert_eq!(page_meta(&in_title).title, expected, "{in_title:?}");
});

fn check_meta(meta: &PageMeta, page_len: usize) {
    for (name, field) in [
        ("title", &meta.title),
        ("description", &meta.description),
        ("image", &meta.image),
        ("url", &meta.url),
    ] {
        let Some(text) = field else { continue };
        assert!(!text.is_empty(), "{name} is empty rather than absent");
        assert!(
            text.len() <= page_len,
            "{name} has {} bytes, the page {page_len}",
            text.len()
        );
        assert_eq!(
            collapse(text).as_deref(),
            Some(text.as_str()),
            "{name}: white space not collapsed"
        );
        // The fields are stored in TEXT columns; PostgreSQL refuses NUL there.
        assert!(!text.contains('\0'), "{name} carries a NUL: {text:?}");
    }
}

/// White space runs collapsed to one space and trimmed; `None` when nothing is left.
fn collapse(text: &str) -> Option<String> {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}
