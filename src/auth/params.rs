//! Request parameters, from wherever the contract allows them: the query string,
//! an `application/x-www-form-urlencoded` body, or a flat JSON object body.
//!
//! Every value is kept as the string that was signed: JSON strings as they are,
//! any other JSON value as compact JSON text (`1`, `true`, `["a","b"]`). Array
//! parameters are therefore JSON text in every transport and are read back with
//! [`Params::string_list`].

use std::collections::BTreeMap;

use crate::envelope::ApiError;

/// The parameters of one request, sorted bytewise by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, String>,
}

/// The body's encoding, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (or an empty one).
    None,
    /// `application/x-www-form-urlencoded`
    Form,
    /// `application/json`
    Json,
}

impl BodyKind {
    /// Classifies a `Content-Type` header; anything else with a non-empty body is 415.
    pub fn from_content_type(
        content_type: Option<&str>,
        body_len: usize,
    ) -> Result<Self, ApiError> {
        if body_len == 0 {
            return Ok(Self::None);
        }
        let mime = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/x-www-form-urlencoded" => Ok(Self::Form),
            "application/json" => Ok(Self::Json),
            "" => Err(ApiError::UnsupportedMediaType(
                "a request body needs Content-Type application/json or application/x-www-form-urlencoded".into(),
            )),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "{other} is not accepted; use application/json or application/x-www-form-urlencoded"
            ))),
        }
    }
}

impl Params {
    /// Parses the query string and the body into one set of parameters. A key
    /// given twice (in either place) is refused, as its signed value would be ambiguous.
    pub fn parse(query: &str, kind: BodyKind, body: &[u8]) -> Result<Self, ApiError> {
        let mut params = Self::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), v.into_owned())?;
        }
        match kind {
            BodyKind::None => {}
            BodyKind::Form => {
                let text = std::str::from_utf8(body)
                    .map_err(|_| ApiError::BadRequest("form body is not UTF-8".into()))?;
                for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
                    params.insert(k.into_owned(), v.into_owned())?;
                }
            }
            BodyKind::Json => {
                // Read member by member: a `serde_json::Map` would keep only
                // the last of a repeated key, which must be refused instead.
                let JsonMembers(members) = serde_json::from_slice(body).map_err(|e| {
                    if e.is_data() {
                        ApiError::BadRequest("JSON body must be an object of parameters".into())
                    } else {
                        ApiError::BadRequest(format!("body is not valid JSON: {e}"))
                    }
                })?;
                for (k, v) in members {
                    let text = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    params.insert(k, text)?;
                }
            }
        }
        Ok(params)
    }

    fn insert(&mut self, key: String, value: String) -> Result<(), ApiError> {
        if key.is_empty() {
            return Err(ApiError::BadRequest("empty parameter name".into()));
        }
        if self.values.contains_key(&key) {
            return Err(ApiError::BadRequest(format!("parameter {key} given twice")));
        }
        self.values.insert(key, value);
        Ok(())
    }

    /// `(key, value)` in signing order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The value of `key` with surrounding white space removed; absent or blank → 400.
    pub fn required(&self, key: &str) -> Result<&str, ApiError> {
        match self.get(key).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::BadRequest(format!("{key} is required"))),
        }
    }

    /// The trimmed value of `key`, `None` when absent or blank.
    pub fn optional(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// An integer parameter; absent → `default`, not an integer → 400.
    pub fn int_or(&self, key: &str, default: i64) -> Result<i64, ApiError> {
        match self.optional(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| ApiError::BadRequest(format!("{key} must be an integer"))),
        }
    }

    /// A required integer parameter.
    pub fn int(&self, key: &str) -> Result<i64, ApiError> {
        self.required(key)?
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("{key} must be an integer")))
    }

    /// A list of strings given as JSON text (`["a","b"]`); absent → empty.
    pub fn string_list(&self, key: &str) -> Result<Vec<String>, ApiError> {
        match self.optional(key) {
            None => Ok(Vec::new()),
            Some(v) => serde_json::from_str(v).map_err(|_| {
                ApiError::BadRequest(format!("{key} must be a JSON array of strings"))
            }),
        }
    }
}

/// The members of a JSON object in the order written, repeated keys kept.
struct JsonMembers(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for JsonMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = JsonMembers;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object of parameters")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonMembers, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(JsonMembers(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_form_and_json_give_the_same_params() {
        let q = Params::parse("a=1&b=x%20y&ts=5", BodyKind::None, b"").unwrap();
        let f = Params::parse("", BodyKind::Form, b"a=1&b=x+y&ts=5").unwrap();
        let j = Params::parse("", BodyKind::Json, br#"{"a":1,"b":"x y","ts":5}"#).unwrap();
        assert_eq!(q, f);
        assert_eq!(q, j);
        assert_eq!(q.get("b"), Some("x y"));
    }

    #[test]
    fn json_non_strings_become_compact_json_text() {
        let p = Params::parse(
            "",
            BodyKind::Json,
            br#"{"list": ["a", "b"], "flag": true, "n": 1.5, "o": {"k": null}}"#,
        )
        .unwrap();
        assert_eq!(p.get("list"), Some(r#"["a","b"]"#));
        assert_eq!(p.get("flag"), Some("true"));
        assert_eq!(p.get("n"), Some("1.5"));
        assert_eq!(p.get("o"), Some(r#"{"k":null}"#));
        assert_eq!(p.string_list("list").unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn lists_from_query_are_json_text() {
        let p = Params::parse("m=%5B%22u1%22%2C%22u2%22%5D", BodyKind::None, b"").unwrap();
        assert_eq!(p.string_list("m").unwrap(), vec!["u1", "u2"]);
        let bad = Params::parse("m=u1,u2", BodyKind::None, b"").unwrap();
        assert!(bad.string_list("m").is_err());
    }

    #[test]
    fn query_and_body_merge_but_duplicates_are_refused() {
        let p = Params::parse("ts=1", BodyKind::Form, b"a=2").unwrap();
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![("a", "2"), ("ts", "1")]);
        assert!(Params::parse("a=1", BodyKind::Form, b"a=2").is_err());
        assert!(Params::parse("a=1&a=2", BodyKind::None, b"").is_err());
    }

    // Found by fuzz/fuzz_targets/params_signature.rs: a JSON body kept the
    // last of a repeated key (serde_json's map), so `{"ts":1,"ts":2}` was
    // accepted as ts=2 while the query and form bodies refuse repeats.
    #[test]
    fn json_duplicate_keys_are_refused() {
        let e = Params::parse("", BodyKind::Json, br#"{"ts":1,"ts":2,"sign":"x"}"#).unwrap_err();
        assert!(
            matches!(&e, ApiError::BadRequest(m) if m == "parameter ts given twice"),
            "{e:?}"
        );
        assert!(Params::parse("", BodyKind::Json, br#"{"a":"1","b":{"a":2},"a":"1"}"#).is_err());
        let message = |body: &[u8]| match Params::parse("", BodyKind::Json, body) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            message(b"[1,2]"),
            "JSON body must be an object of parameters"
        );
        assert_eq!(
            message(b"\"ts\""),
            "JSON body must be an object of parameters"
        );
        assert!(message(b"{oops").starts_with("body is not valid JSON: "));
        assert!(message(br#"{"a":1} x"#).starts_with("body is not valid JSON: "));
    }

    #[test]
    fn json_must_be_an_object() {
        assert!(Params::parse("", BodyKind::Json, b"[1,2]").is_err());
        assert!(Params::parse("", BodyKind::Json, b"{oops").is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(
            BodyKind::from_content_type(Some("application/json; charset=utf-8"), 2).unwrap(),
            BodyKind::Json
        );
        assert_eq!(
            BodyKind::from_content_type(Some("text/plain"), 0).unwrap(),
            BodyKind::None
        );
        assert!(matches!(
            BodyKind::from_content_type(Some("text/plain"), 3),
            Err(ApiError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            BodyKind::from_content_type(None, 3),
            Err(ApiError::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn typed_getters() {
        let p = Params::parse("n=12&blank=%20&x=abc", BodyKind::None, b"").unwrap();
        assert_eq!(p.int("n").unwrap(), 12);
        assert_eq!(p.int_or("missing", 7).unwrap(), 7);
        assert!(p.int("x").is_err());
        assert!(p.required("blank").is_err());
        assert_eq!(p.optional("blank"), None);
    }
}
