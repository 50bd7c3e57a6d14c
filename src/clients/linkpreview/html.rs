//! Just enough HTML reading for a preview: `<title>`, and `<meta>` tags with
//! `property`/`name` og:title, og:description, og:image, og:url, description,
//! twitter:*. A forgiving scanner, not a parser: pages are often invalid.

/// What a page says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageMeta {
    /// og:title, twitter:title or `<title>`.
    pub title: Option<String>,
    /// og:description, description or twitter:description.
    pub description: Option<String>,
    /// og:image or twitter:image, as written (may be relative).
    pub image: Option<String>,
    /// og:url, as written.
    pub url: Option<String>,
}

/// Decodes the common character references.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // A reference is at most 10 bytes before its ';' (`&#x10FFFF;`): look
        // no further, or a page of '&' without ';' costs quadratic time.
        let end = rest.bytes().take(11).position(|b| b == b';');
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let code = if let Some(hex) =
                        name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = name.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    // `&#0;` is U+FFFD, as in browsers (NUL cannot be stored in a TEXT column).
                    code.map(|c| if c == 0 { 0xFFFD } else { c })
                        .and_then(char::from_u32)
                }
            };
            ch.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Entities decoded, NUL characters dropped, white space collapsed; `None`
/// when nothing is left.
fn clean(text: &str) -> Option<String> {
    let collapsed = decode_entities(text)
        .replace('\0', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// The attributes of one tag's text (`meta property="og:title" content="x"`).
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = tag.as_bytes();
    let mut i = 0;
    // skip the tag name
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' {
            i += 1;
        }
        let name = tag[start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let quote = bytes[i];
                i += 1;
                let vstart = i;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                value = tag[vstart..i].to_owned();
                i += 1;
            } else {
                let vstart = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = tag[vstart..i].to_owned();
            }
        }
        if !name.is_empty() {
            out.push((name, value));
        }
    }
    out
}

/// Reads the preview fields of `html`.
pub fn page_meta(html: &str) -> PageMeta {
    let lower = html.to_ascii_lowercase();
    let mut meta = PageMeta::default();
    let (mut twitter_title, mut twitter_description, mut twitter_image, mut plain_description) =
        (None, None, None, None);
    let mut pos = 0;
    while let Some(found) = lower[pos..].find("<meta") {
        let start = pos + found + 1;
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let tag = &html[start..start + len];
        pos = start + len;
        let attrs = attributes(tag);
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        let key = get("property")
            .or_else(|| get("name"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let Some(content) = get("content").and_then(clean) else {
            continue;
        };
        let slot = match key.as_str() {
            "og:title" => &mut meta.title,
            "og:description" => &mut meta.description,
            "og:image" | "og:image:url" | "og:image:secure_url" => &mut meta.image,
            "og:url" => &mut meta.url,
            "twitter:title" => &mut twitter_title,
            "twitter:description" => &mut twitter_description,
            "twitter:image" => &mut twitter_image,
            "description" => &mut plain_description,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(content);
        }
    }
    let title_tag = lower.find("<title").and_then(|t| {
        let open_end = t + lower[t..].find('>')? + 1;
        let close = open_end + lower[open_end..].find("</title")?;
        clean(&html[open_end..close])
    });
    meta.title = meta.title.or(twitter_title).or(title_tag);
    meta.description = meta
        .description
        .or(plain_description)
        .or(twitter_description);
    meta.image = meta.image.or(twitter_image);
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_graph_wins_over_title_and_description() {
        let html = r#"<!doctype html><html><head>
            <title>Plain &amp; simple</title>
            <meta name="description" content="plain description">
            <meta property="og:title" content="创业路上之职业技能篇 &#8211; 技术">
            <meta content='OG description' property='og:description'/>
            <META PROPERTY="og:image" CONTENT="/img/cover.jpeg">
            <meta property="og:url" content="https://blog.example/a">
            </head><body><title>not this</title></body></html>"#;
        let m = page_meta(html);
        assert_eq!(m.title.as_deref(), Some("创业路上之职业技能篇 – 技术"));
        assert_eq!(m.description.as_deref(), Some("OG description"));
        assert_eq!(m.image.as_deref(), Some("/img/cover.jpeg"));
        assert_eq!(m.url.as_deref(), Some("https://blog.example/a"));
    }

    #[test]
    fn falls_back_to_title_and_meta_description() {
        let m = page_meta("<html><head><title>\n  Hello\n  world </title><meta name=description content=Short></head>");
        assert_eq!(m.title.as_deref(), Some("Hello world"));
        assert_eq!(m.description.as_deref(), Some("Short"));
        assert_eq!(m.image, None);
        assert_eq!(page_meta("no html at all"), PageMeta::default());
        assert_eq!(
            page_meta("<meta property=og:title content=\"unterminated"),
            PageMeta::default()
        );
    }

    // Found by fuzz/fuzz_targets/link_preview_html.rs: a raw NUL (or `&#0;`)
    // in a title or content reached the preview, which PostgreSQL cannot
    // store in a TEXT column.
    #[test]
    fn nul_never_reaches_a_field() {
        let m = page_meta(
            "<meta property=og:description conten\0t=\"&&&;\"><title>a\0b &#0; c</title>\
             <meta property=\"og:url\" content=\"&#0;\"><meta property=og:image content=\"\0\">",
        );
        assert_eq!(m.title.as_deref(), Some("ab \u{fffd} c"));
        assert_eq!(m.url.as_deref(), Some("\u{fffd}"));
        assert_eq!(m.image, None);
        assert_eq!(m.description, None);
        assert_eq!(decode_entities("&#0;&#x0;&#x00000;"), "\u{fffd}".repeat(3));
        // The fuzzer's input, escaped into an og:title.
        let m = page_meta(
            "<meta property=\"og:title\" content=\"&lt;meta conten\0t=&quot;&amp;&amp;;&quot;&gt;\">",
        );
        assert_eq!(m.title.as_deref(), Some("<meta content=\"&&;\">"));
    }

    // A page of '&' without ';' took quadratic time (each '&' searched the
    // rest of the page for ';'): 1 MiB, the preview read cap, took about 30 s
    // of CPU in release, blocking the worker past the fetch deadline.
    #[test]
    fn many_ampersands_decode_in_linear_time() {
        let page = format!("<title>{}</title>", "&".repeat(1 << 20));
        let started = std::time::Instant::now();
        let m = page_meta(&page);
        let took = started.elapsed();
        assert_eq!(m.title.map(|t| t.len()), Some(1 << 20));
        assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
        let spaced = "&amp;x&".repeat(1 << 16) + ";";
        assert_eq!(decode_entities(&spaced), "&x&".repeat(1 << 16) + ";");
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a &amp; b &lt;&gt; &#x4e2d;&#25991; &bogus; &"),
            "a & b <> 中文 &bogus; &"
        );
    }
}
