//! The profile ConfigMap (spec §5.5): found by `spec.profileConfigMap` or `<name>-profile`, always read from the
//! runtime cluster, with the required key `profile.yaml` holding two mappings, `infra` and `components`.
//!
//! Deliberate difference from upstream (spec §11.2 item 21): the `components` section is rendered as a template
//! from its original text in the ConfigMap (upstream re-serialises it first), so a template error names the line
//! of the ConfigMap key the user wrote. Missing or non-mapping sections are a clear error instead of a crash.

use platform_mesh_plugin_sdk::{Funcs, Gvk, Host, RenderError, Target};
use serde_json::{Map, Value};

use crate::{
    error::{Error, Result},
    settings::{PROFILE_KEY, Settings},
};

/// A loaded profile.
#[derive(Clone, Debug)]
pub struct Profile {
    /// `ConfigMap <ns>/<name> key profile.yaml`, for messages.
    pub source: String,
    /// The parsed `infra` section.
    pub infra: Map<String, Value>,
    /// The parsed (not yet rendered) `components` section.
    pub components: Map<String, Value>,
    /// The `components` section as template text, and the ConfigMap line its first line sits on.
    components_text: String,
    components_line: u32,
}

fn profile_error(source: &str, line: Option<u32>, message: impl Into<String>) -> Error {
    Error::Profile {
        source: source.to_owned(),
        line,
        message: message.into(),
    }
}

/// Reads and parses the profile of the PlatformMesh.
pub fn load(host: &dyn Host, settings: &Settings) -> Result<Profile> {
    let (namespace, name) = settings.profile_config_map();
    let reference = Gvk::new("", "v1", "ConfigMap").object(Some(&namespace), name.clone());
    let config_map = host
        .get(&Target::Runtime, &reference)
        .map_err(|e| Error::cluster("reading profile", &Target::Runtime, &reference, e))?
        .ok_or_else(|| {
            profile_error(
                &format!("ConfigMap {namespace}/{name}"),
                None,
                "the profile ConfigMap does not exist",
            )
        })?;
    let text = config_map
        .pointer(&format!("/data/{}", PROFILE_KEY.replace('/', "~1")))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            profile_error(
                &format!("ConfigMap {namespace}/{name}"),
                None,
                format!("the ConfigMap exists but does not contain key {PROFILE_KEY}"),
            )
        })?;
    parse(
        &format!("ConfigMap {namespace}/{name} key {PROFILE_KEY}"),
        text,
        host,
    )
}

/// Parses profile text; `source` names it in errors.
pub fn parse(source: &str, text: &str, host: &dyn Host) -> Result<Profile> {
    let parsed = host
        .parse_yaml(source, text)
        .map_err(|e| profile_error(source, e.line, e.message))?;
    let section = |key: &str| -> Result<Map<String, Value>> {
        match parsed.get(key) {
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(_) => Err(profile_error(
                source,
                section_line(text, key),
                format!("`{key}` must be a mapping"),
            )),
            None => Err(profile_error(
                source,
                None,
                format!("the profile has no `{key}` section (it needs `infra` and `components`)"),
            )),
        }
    };
    let infra = section("infra")?;
    let components = section("components")?;
    let (components_text, components_line) = match section_text(text, "components") {
        Some((slice, line)) => (slice, line),
        // Flow-style or otherwise unusual layouts: render the normalised section like upstream does.
        None => {
            let yaml = host
                .to_yaml(&Value::Object(components.clone()))
                .map_err(|e| profile_error(source, None, e.message))?;
            let indented: String = yaml.lines().map(|l| format!("  {l}\n")).collect();
            (format!("components:\n{indented}"), 0)
        }
    };
    Ok(Profile {
        source: source.to_owned(),
        infra,
        components,
        components_text,
        components_line,
    })
}

impl Profile {
    /// Renders the `components` section as a template with `data` (deployment function map) and parses the result.
    /// Errors name the ConfigMap key and the line in it.
    pub fn render_components(&self, host: &dyn Host, data: &Value) -> Result<Map<String, Value>> {
        let at_line = |e: RenderError| {
            let line = match (e.line, self.components_line) {
                (Some(l), start) if start > 0 => Some(l + start - 1),
                (line, _) => line,
            };
            profile_error(&self.source, line, format!("components: {}", e.message))
        };
        let rendered = host
            .render_string(&self.source, &self.components_text, data, Funcs::Deployment)
            .map_err(at_line)?;
        let parsed = host.parse_yaml(&self.source, &rendered).map_err(at_line)?;
        match parsed.get("components") {
            Some(Value::Object(map)) => Ok(map.clone()),
            _ => Err(profile_error(
                &self.source,
                (self.components_line > 0).then_some(self.components_line),
                "the rendered `components` section is not a mapping",
            )),
        }
    }
}

/// Whether `line` starts a top-level entry (a key at column 0, not a comment or document marker).
fn is_top_level(line: &str) -> bool {
    line.chars()
        .next()
        .is_some_and(|c| !c.is_whitespace() && c != '#')
}

/// The 1-based line of the top-level key `key`.
fn section_line(text: &str, key: &str) -> Option<u32> {
    text.lines()
        .position(|l| l.strip_prefix(key).is_some_and(|rest| rest.starts_with(':')))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn is_section_start(line: &str, key: &str) -> bool {
    line.strip_prefix(key)
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
}

/// The text of the block-style top-level section `key` (from its key line up to the next top-level entry), with
/// the 1-based line it starts on. The last occurrence wins, as for duplicate keys.
fn section_text(text: &str, key: &str) -> Option<(String, u32)> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().rposition(|l| is_section_start(l, key))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| is_top_level(l))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut slice = lines[start..end].join("\n");
    slice.push('\n');
    Some((slice, u32::try_from(start + 1).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "# comment\ninfra:\n  a: 1\ncomponents:\n  services:\n    x: {{ .baseDomain }}\n\n  b: 2\nother: 3\n";

    #[test]
    fn section_text_spans_up_to_the_next_top_level_key() {
        let (slice, line) = section_text(TEXT, "components").unwrap();
        assert_eq!(line, 4);
        assert_eq!(
            slice,
            "components:\n  services:\n    x: {{ .baseDomain }}\n\n  b: 2\n"
        );
    }

    #[test]
    fn section_line_finds_the_key_line() {
        assert_eq!(section_line(TEXT, "infra"), Some(2));
        assert_eq!(section_line(TEXT, "missing"), None);
    }

    #[test]
    fn flow_style_sections_have_no_block_text() {
        assert_eq!(section_text("components: {a: 1}\n", "components"), None);
    }
}
