//! A PlatformMesh's `spec.exposure` with the defaults every subroutine applies (spec §5.6.1), and the exposure
//! variables templates see. The port defaults to 8443 everywhere (spec §11.2 item 19: upstream used 443 in the
//! components set) and is a string, as in the templates.

use serde_json::{Map, Value, json};

/// `spec.exposure` with defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// `baseDomain`, default `portal.localhost`.
    pub base_domain: String,
    /// `protocol`, default `https`.
    pub protocol: String,
    /// `port` as a string, default `8443` (also for `0`).
    pub port: String,
}

impl Exposure {
    /// Reads a `spec.exposure` value (absent, `null` and empty fields take their defaults).
    pub fn from_spec(exposure: Option<&Value>) -> Self {
        let text = |key: &str, default: &str| {
            exposure
                .and_then(|e| e.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or(default)
                .to_owned()
        };
        let port = exposure
            .and_then(|e| e.get("port"))
            .and_then(Value::as_i64)
            .filter(|p| *p != 0)
            .map_or_else(|| "8443".to_owned(), |p| p.to_string());
        Exposure {
            base_domain: text("baseDomain", "portal.localhost"),
            protocol: text("protocol", "https"),
            port,
        }
    }

    /// Reads `spec.exposure` of a PlatformMesh object.
    pub fn of(platform_mesh: &Value) -> Self {
        Self::from_spec(platform_mesh.pointer("/spec/exposure"))
    }

    /// `baseDomain` without the port for 80 and 443, else `<baseDomain>:<port>`.
    pub fn base_domain_port(&self) -> String {
        match self.port.as_str() {
            "80" | "443" => self.base_domain.clone(),
            port => format!("{}:{port}", self.base_domain),
        }
    }

    /// The exposure variables: `baseDomain`, `protocol`, `port` and `baseDomainPort`.
    pub fn variables(&self) -> Map<String, Value> {
        let mut vars = Map::new();
        vars.insert("baseDomain".into(), json!(self.base_domain));
        vars.insert("protocol".into(), json!(self.protocol));
        vars.insert("port".into(), json!(self.port));
        vars.insert("baseDomainPort".into(), json!(self.base_domain_port()));
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_to_absent_empty_and_zero_fields() {
        let defaults = Exposure::of(&json!({}));
        assert_eq!(
            (
                defaults.base_domain.as_str(),
                defaults.protocol.as_str(),
                defaults.port.as_str()
            ),
            ("portal.localhost", "https", "8443")
        );
        let blank = json!({"spec": {"exposure": {"baseDomain": "", "protocol": "", "port": 0}}});
        assert_eq!(Exposure::of(&blank), defaults);
        assert_eq!(defaults.base_domain_port(), "portal.localhost:8443");
    }

    #[test]
    fn well_known_ports_are_left_out_of_base_domain_port() {
        for (port, expected) in [(80, "x.io"), (443, "x.io"), (8080, "x.io:8080")] {
            let e = Exposure::from_spec(Some(&json!({"baseDomain": "x.io", "port": port})));
            assert_eq!(e.port, port.to_string());
            assert_eq!(e.base_domain_port(), expected);
        }
    }

    #[test]
    fn variables_hold_the_four_keys() {
        let e = Exposure::from_spec(Some(
            &json!({"baseDomain": "example.com", "port": 443, "protocol": "http"}),
        ));
        assert_eq!(
            Value::Object(e.variables()),
            json!({"baseDomain": "example.com", "protocol": "http", "port": "443", "baseDomainPort": "example.com"})
        );
    }
}
