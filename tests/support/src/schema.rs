//! The response-schema check: every response the signing client receives
//! ([`crate::client::try_send`], so [`crate::client::Call::send`] and
//! [`crate::client::send`]) is validated against the server's own OpenAPI
//! document, built in-process once ([`huddle::http::openapi::document`], the
//! very document `GET /docs-json` serves), for its route, method and status.
//! A field added to a Rust struct and not to the document, or the reverse,
//! fails the suite.
//!
//! How a response is checked:
//! - the concrete path is matched to the document's path templates (`{x}`
//!   takes one segment; the template with the most literal segments wins);
//! - the operation's response for the status (else `default`), `$ref`s to
//!   `#/components/responses/…` followed, gives the schema of its
//!   `application/json` content; it is compiled with `jsonschema` (draft
//!   2020-12) with every component schema under `$defs`;
//! - strict for the check: an object schema with `properties` and no
//!   `additionalProperties` is closed (`allOf`s of objects are merged first,
//!   so closing the parts does not refuse each other's fields), and
//!   `required` holds; so extra and missing fields both fail;
//! - both dialects: OpenAPI 3.0's `nullable: true` becomes a type union with
//!   `"null"` (3.1's `type: [.., "null"]` and `oneOf` need nothing), 3.0's
//!   boolean `exclusiveMinimum`/`exclusiveMaximum` become 3.1's numbers.
//!
//! Not checked, explicitly: responses that are not JSON (HTML pages, images,
//! web and docs assets, redirects and upgrades without a body) and the routes
//! of [`UNDOCUMENTED`]. A JSON response of any other route the document does
//! not name fails, except the 404 envelope of the unknown paths of [`PROBES`]
//! and the 405 envelope of a documented path called with another method,
//! both checked against the document's `NotFound`/`MethodNotAllowed`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::Validator;
use serde_json::{json, Map, Value};

/// Paths the document does not name on purpose, with why; their JSON
/// answers are not checked: (method or `*`, exact path, why). None so far:
/// every route that answers JSON is documented.
pub const UNDOCUMENTED: &[(&str, &str, &str)] = &[];

/// Paths no route serves, which tests call to see the 404 envelope; their
/// answers are checked against `#/components/responses/NotFound`.
pub const PROBES: &[(&str, &str)] = &[("GET", "/nope"), ("GET", "/no/such/route")];

static CHECKER: LazyLock<Checker> =
    LazyLock::new(|| Checker::new(huddle::http::openapi::document()));

/// The checker of the server's own document (built once per process).
pub fn checker() -> &'static Checker {
    &CHECKER
}

/// A document, prepared for checking responses against it: [`Checker::check`]
/// says what of one response does not match.
pub struct Checker {
    doc: Value,
    /// `#/components/schemas` as written.
    components: Map<String, Value>,
    /// The component schemas, made strict, for `$defs`.
    defs: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl Checker {
    pub fn new(doc: Value) -> Self {
        let components = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let defs: Map<String, Value> = components
            .iter()
            .map(|(k, v)| (k.clone(), strict(v, &components)))
            .collect();
        Self {
            defs: Value::Object(defs),
            components,
            doc,
            validators: Mutex::default(),
        }
    }

    /// The path template of `path` and its operation for `method`:
    /// `Ok(None)` when a template matches but has no such method.
    fn operation(&self, method: &str, path: &str) -> Option<(&str, Option<&Value>)> {
        let paths = self.doc.get("paths")?.as_object()?;
        let segments: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, &str, Option<&Value>)> = None;
        for (template, item) in paths {
            let op = item.get(method.to_ascii_lowercase());
            // `{key:.+}` as actix registers it: the last parameter takes the rest.
            let tail = item.as_object().is_some_and(|ops| {
                ops.values().any(|o| {
                    o["x-actix-pattern"]
                        .as_str()
                        .is_some_and(|p| p.ends_with(":.+}") || p.ends_with(":.*}"))
                })
            });
            let parts: Vec<&str> = template.split('/').collect();
            let fits_len = if tail {
                segments.len() >= parts.len()
            } else {
                segments.len() == parts.len()
            };
            if !fits_len {
                continue;
            }
            let mut literal = 0;
            let fits = parts.iter().zip(&segments).all(|(p, s)| {
                if p.starts_with('{') && p.ends_with('}') {
                    !s.is_empty()
                } else {
                    literal += 1;
                    p == s
                }
            });
            let better = best.is_none_or(|(n, _, o)| (op.is_some(), literal) > (o.is_some(), n));
            if fits && better {
                best = Some((literal, template.as_str(), op));
            }
        }
        best.map(|(_, t, op)| (t, op))
    }

    /// Follows a `$ref` into `#/components/…`.
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix('#')
                .and_then(|p| self.doc.pointer(p))
                .unwrap_or(v),
            None => v,
        }
    }

    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<(), String> {
        let is_json = content_type.is_some_and(|c| {
            let c = c.split(';').next().unwrap_or_default().trim();
            c == "application/json" || c.ends_with("+json")
        });
        if !is_json {
            return Ok(()); // HTML, images, assets, bodiless redirects: not checked
        }
        let body: Value =
            serde_json::from_str(body).map_err(|e| format!("Content-Type is JSON but: {e}"))?;
        let (template, op) = match self.operation(method, path) {
            Some((template, Some(op))) => (template, op),
            // A documented path called with another method: the 405 envelope.
            Some((template, None)) if status == 405 => {
                return self.check_failure(
                    &format!("{method} {template}"),
                    "MethodNotAllowed",
                    &body,
                );
            }
            Some((template, None)) => {
                return Err(format!(
                    "{template} has no {method} in the document (HTTP {status})"
                ));
            }
            None if PROBES
                .iter()
                .any(|(m, p)| m.eq_ignore_ascii_case(method) && *p == path) =>
            {
                return self.check_failure(&format!("{method} {path}"), "NotFound", &body);
            }
            None if UNDOCUMENTED
                .iter()
                .any(|(m, p, _)| (*m == "*" || m.eq_ignore_ascii_case(method)) && *p == path) =>
            {
                return Ok(());
            }
            None => {
                return Err(format!(
                    "{method} {path} answered JSON but the document has no such operation"
                ));
            }
        };
        let responses = &op["responses"];
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .map(|r| self.resolve(r))
            .ok_or_else(|| {
                format!(
                    "{method} {template}: status {status} is not documented (documented: {:?})",
                    responses
                        .as_object()
                        .map(|o| o.keys().cloned().collect::<Vec<_>>())
                        .unwrap_or_default()
                )
            })?;
        let Some(schema) = response.pointer("/content/application~1json/schema") else {
            return Err(format!(
                "{method} {template}: status {status} is documented without JSON content"
            ));
        };
        self.validate(&format!("{method} {template} {status}"), schema, &body)
    }

    /// Checks `body` against `#/components/responses/{name}` (a protocol failure).
    fn check_failure(&self, what: &str, name: &str, body: &Value) -> Result<(), String> {
        let schema = self
            .doc
            .pointer(&format!(
                "/components/responses/{name}/content/application~1json/schema"
            ))
            .ok_or_else(|| format!("{what}: the document has no response {name}"))?;
        self.validate(&format!("{what} ({name})"), schema, body)
    }

    fn validate(&self, key: &str, schema: &Value, body: &Value) -> Result<(), String> {
        let validator = self.validator(key, schema)?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{key}: {}", errors.join("; ")))
        }
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<Validator>, String> {
        if let Some(v) = self.validators.lock().unwrap().get(key) {
            return Ok(v.clone());
        }
        let mut root = strict(schema, &self.components);
        let root = match root.as_object_mut() {
            Some(obj) => {
                obj.insert("$defs".into(), self.defs.clone());
                root
            }
            None => json!({ "allOf": [root], "$defs": self.defs }),
        };
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(false)
            .build(&root)
            .map_err(|e| format!("{key}: the document's schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key.to_owned(), validator.clone());
        Ok(validator)
    }
}

/// The component an `#/components/schemas/X` reference names.
fn component<'a>(v: &Value, components: &'a Map<String, Value>) -> Option<&'a Value> {
    v.get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
        .and_then(|name| components.get(name))
}

/// `allOf` parts that are all object schemas (inline or referenced), merged
/// into one object schema; `None` when a part is something else.
fn merged_all_of(parts: &[Value], components: &Map<String, Value>) -> Option<Value> {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for part in parts {
        let part = component(part, components).unwrap_or(part);
        if let Some(inner) = part.get("allOf").and_then(Value::as_array) {
            let merged = merged_all_of(inner, components)?;
            properties.extend(merged["properties"].as_object()?.clone());
            required.extend(merged["required"].as_array()?.iter().cloned());
            continue;
        }
        properties.extend(part.get("properties")?.as_object()?.clone());
        if let Some(r) = part.get("required").and_then(Value::as_array) {
            required.extend(r.iter().cloned());
        }
    }
    Some(json!({ "type": "object", "properties": properties, "required": required }))
}

/// `schema` made strict (closed objects) and in the 2020-12 dialect.
fn strict(schema: &Value, components: &Map<String, Value>) -> Value {
    match schema {
        Value::Array(items) => Value::Array(items.iter().map(|v| strict(v, components)).collect()),
        Value::Object(obj) => {
            let mut out = obj.clone();
            if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
                if parts.len() > 1 {
                    if let Some(Value::Object(merged)) = merged_all_of(parts, components) {
                        out.remove("allOf");
                        out.extend(merged);
                    }
                }
            }
            for key in ["properties", "patternProperties", "$defs", "definitions"] {
                if let Some(Value::Object(props)) = out.get(key) {
                    let props = props
                        .iter()
                        .map(|(k, v)| (k.clone(), strict(v, components)))
                        .collect();
                    out.insert(key.into(), Value::Object(props));
                }
            }
            for key in [
                "items",
                "additionalProperties",
                "not",
                "allOf",
                "oneOf",
                "anyOf",
                "prefixItems",
            ] {
                if let Some(v) = out.get(key) {
                    if v.is_object() || v.is_array() {
                        let v = strict(v, components);
                        out.insert(key.into(), v);
                    }
                }
            }
            if let Some(Value::String(r)) = out.get("$ref") {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    out.insert("$ref".into(), json!(format!("#/$defs/{name}")));
                }
            }
            for (bound, plain) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(exclusive)) = out.get(bound).cloned() {
                    out.remove(bound);
                    if exclusive {
                        if let Some(n) = out.remove(plain) {
                            out.insert(bound.into(), n);
                        }
                    }
                }
            }
            if out.contains_key("properties") && !out.contains_key("additionalProperties") {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            if out.remove("nullable") == Some(Value::Bool(true)) {
                return nullable(out);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema: `null` is also allowed.
fn nullable(mut out: Map<String, Value>) -> Value {
    if let Some(Value::Array(values)) = out.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
    match out.get("type").cloned() {
        Some(Value::String(t)) => {
            out.insert("type".into(), json!([t, "null"]));
            Value::Object(out)
        }
        Some(Value::Array(mut types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            out.insert("type".into(), Value::Array(types));
            Value::Object(out)
        }
        _ => json!({ "anyOf": [Value::Object(out), { "type": "null" }] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small document in OpenAPI 3.0 (`nullable`) or 3.1 (`type` unions) form.
    fn document(v31: bool) -> Value {
        let note = if v31 {
            json!({ "type": ["string", "null"] })
        } else {
            json!({ "type": "string", "nullable": true })
        };
        json!({
            "openapi": if v31 { "3.1.0" } else { "3.0.3" },
            "paths": {
                "/thing/{id}": { "get": { "responses": {
                    "200": { "content": { "application/json": { "schema": {
                        "type": "object",
                        "required": ["result", "status"],
                        "properties": {
                            "result": { "$ref": "#/components/schemas/Thing" },
                            "status": { "type": "integer", "enum": [1] },
                        }
                    } } } },
                    "404": { "$ref": "#/components/responses/NotFound" },
                } } },
                "/thing/special": { "get": { "responses": {
                    "200": { "content": { "text/html": { "schema": { "type": "string" } } } },
                } } },
            },
            "components": {
                "schemas": {
                    "Thing": {
                        "allOf": [
                            { "$ref": "#/components/schemas/Named" },
                            { "type": "object", "required": ["id"], "properties": {
                                "id": { "type": "string" }, "note": note } },
                        ]
                    },
                    "Named": { "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } },
                    "Failure": { "type": "object", "required": ["message"], "properties": { "message": { "type": "string" } } },
                },
                "responses": {
                    "NotFound": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Failure" } } } },
                },
            },
        })
    }

    fn check(checker: &Checker, status: u16, body: Value) -> Result<(), String> {
        checker.check(
            "GET",
            "/thing/42",
            status,
            Some("application/json"),
            &body.to_string(),
        )
    }

    #[test]
    fn a_matching_body_passes_in_both_dialects() {
        for v31 in [false, true] {
            let c = Checker::new(document(v31));
            let thing = json!({ "id": "42", "name": "n", "note": null });
            check(&c, 200, json!({ "result": thing, "status": 1 })).unwrap();
            let thing = json!({ "id": "42", "name": "n", "note": "x" });
            check(&c, 200, json!({ "result": thing, "status": 1 })).unwrap();
            check(&c, 404, json!({ "message": "Not Found" })).unwrap();
        }
    }

    #[test]
    fn an_extra_field_fails() {
        for v31 in [false, true] {
            let c = Checker::new(document(v31));
            let thing = json!({ "id": "42", "name": "n", "colour": "red" });
            let err = check(&c, 200, json!({ "result": thing, "status": 1 })).unwrap_err();
            assert!(err.contains("colour"), "{err}");
            let err = check(&c, 404, json!({ "message": "x", "extra": 1 })).unwrap_err();
            assert!(err.contains("extra"), "{err}");
        }
    }

    #[test]
    fn a_missing_required_field_fails() {
        for v31 in [false, true] {
            let c = Checker::new(document(v31));
            let thing = json!({ "id": "42" });
            let err = check(&c, 200, json!({ "result": thing, "status": 1 })).unwrap_err();
            assert!(err.contains("name"), "{err}");
            let err = check(&c, 200, json!({ "result": { "id": "1", "name": "n" } })).unwrap_err();
            assert!(err.contains("status"), "{err}");
        }
    }

    #[test]
    fn a_wrong_type_and_null_where_not_nullable_fail() {
        let c = Checker::new(document(false));
        let thing = json!({ "id": 42, "name": "n" });
        assert!(check(&c, 200, json!({ "result": thing, "status": 1 })).is_err());
        let thing = json!({ "id": "42", "name": null });
        assert!(check(&c, 200, json!({ "result": thing, "status": 1 })).is_err());
    }

    #[test]
    fn undocumented_routes_and_statuses_fail_and_non_json_is_not_checked() {
        let c = Checker::new(document(false));
        let err = c
            .check("GET", "/nowhere", 200, Some("application/json"), "{}")
            .unwrap_err();
        assert!(err.contains("no such operation"), "{err}");
        let err = check(&c, 500, json!({})).unwrap_err();
        assert!(err.contains("not documented"), "{err}");
        // the literal template wins over /thing/{id}; its answer is HTML
        c.check("GET", "/thing/special", 200, Some("text/html"), "<p>")
            .unwrap();
        let err = c
            .check("GET", "/thing/special", 200, Some("application/json"), "{}")
            .unwrap_err();
        assert!(err.contains("without JSON content"), "{err}");
    }
}
