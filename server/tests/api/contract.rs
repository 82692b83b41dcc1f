//! Checks an answer of the running server against its own OpenAPI document: the operation
//! exists for the path and method, the status is one it documents (exactly, or by its range),
//! the content type is a documented one, and a JSON body validates against the documented
//! schema (JSON Schema 2020-12, with the document's components for `$ref`s).

use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Contract {
    document: Value,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

/// Which operation and documented response an answer was checked against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checked {
    pub method: String,
    pub path: String,
    pub status: u16,
}

impl Contract {
    pub fn new(document: Value) -> Contract {
        Contract {
            document,
            validators: Mutex::default(),
        }
    }

    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The documented path template `path` (a request path, percent-encoded) falls under: the
    /// one matching with the most literal segments (`/api/tickets/mine` before
    /// `/api/tickets/{id}`).
    pub fn template(&self, path: &str) -> Option<String> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.document["paths"]
            .as_object()?
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != wanted.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, got) in parts.iter().zip(&wanted) {
                    // A parameter takes any one segment, even an empty one, as the router does.
                    let parameter = part.starts_with('{') && part.ends_with('}');
                    if !parameter {
                        if part != got {
                            return None;
                        }
                        literal += 1;
                    }
                }
                Some((literal, template.clone()))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, template)| template)
    }

    /// Checks one answer. `Ok(None)` when the document does not cover the request (an unknown
    /// route or method, which the caller checks is refused), `Ok(Some(_))` when it conforms.
    pub fn check(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Result<Option<Checked>, String> {
        let Some(template) = self.template(path) else {
            return Ok(None);
        };
        let method_key = method.as_str().to_lowercase();
        let Some(operation) = self.document["paths"][&template].get(&method_key) else {
            return Ok(None);
        };
        let responses = &operation["responses"];
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let (key, response) = [exact.as_str(), range.as_str(), "default"]
            .into_iter()
            .find_map(|key| responses.get(key).map(|r| (key.to_string(), r)))
            .ok_or_else(|| format!("{method} {template}: status {status} is not documented"))?;
        let documented = response.get("content").and_then(Value::as_object);
        let media = content_type.split(';').next().unwrap_or("").trim();
        match documented {
            None => {
                if !body.is_empty() {
                    return Err(format!(
                        "{method} {template} {status}: a body ({media}) where none is documented"
                    ));
                }
            }
            Some(content) => {
                let Some(entry) = content.get(media) else {
                    return Err(format!(
                        "{method} {template} {status}: content type {media:?} is not one of {:?}",
                        content.keys().collect::<Vec<_>>()
                    ));
                };
                if media == "application/json"
                    && let Some(schema) = entry.get("schema")
                {
                    let value: Value = serde_json::from_slice(body)
                        .map_err(|e| format!("{method} {template} {status}: not JSON ({e})"))?;
                    let validator =
                        self.validator(&format!("{template} {method_key} {key}"), schema)?;
                    let errors: Vec<String> = validator
                        .iter_errors(&value)
                        .map(|e| format!("{} at {}", e, e.instance_path))
                        .collect();
                    if !errors.is_empty() {
                        return Err(format!(
                            "{method} {template} {status}: the body contradicts the schema: {errors:?}\nbody: {value}"
                        ));
                    }
                }
            }
        }
        Ok(Some(Checked {
            method: method.as_str().to_string(),
            path: template,
            status,
        }))
    }

    fn validator(
        &self,
        key: &str,
        schema: &Value,
    ) -> Result<std::sync::Arc<jsonschema::Validator>, String> {
        let mut validators = self.validators.lock().unwrap();
        if let Some(found) = validators.get(key) {
            return Ok(found.clone());
        }
        // The response's schema, with the document's components beside it so that its
        // `#/components/schemas/…` references resolve.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.document["components"],
        });
        let validator = std::sync::Arc::new(
            jsonschema::draft202012::new(&root).map_err(|e| format!("{key}: {e}"))?,
        );
        validators.insert(key.to_string(), validator.clone());
        Ok(validator)
    }

    /// Every documented operation: (method, path template).
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut all = Vec::new();
        for (path, item) in self.document["paths"].as_object().into_iter().flatten() {
            for method in ["get", "post", "put", "delete", "patch"] {
                if item.get(method).is_some() {
                    all.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        all
    }
}
