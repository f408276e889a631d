//! The exposure variables (spec §5.6.1) from `spec.exposure`.
//!
//! Deliberate difference (spec §11.2 item 19): the port defaults to 8443 in every variable set (upstream used 443
//! in the components set), and `baseDomainWithPort` equals `baseDomainPort` (no port for 80 and 443).

use serde_json::{Map, Value, json};

use crate::settings::Settings;

/// The exposure settings with defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    pub base_domain: String,
    pub protocol: String,
    /// The port as a string, as the templates see it.
    pub port: String,
}

impl Exposure {
    /// Reads `spec.exposure`; defaults `portal.localhost`, `https`, `8443`.
    pub fn of(settings: &Settings) -> Self {
        let exposure = settings.spec_field("exposure");
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

    /// `baseDomain` without the port for 80 and 443, else `<baseDomain>:<port>`.
    pub fn base_domain_port(&self) -> String {
        if self.port == "80" || self.port == "443" {
            self.base_domain.clone()
        } else {
            format!("{}:{}", self.base_domain, self.port)
        }
    }

    /// The "template vars" of spec §5.6.1.
    pub fn template_vars(&self, namespace: &str) -> Map<String, Value> {
        let value = json!({
            "baseDomain": self.base_domain,
            "protocol": self.protocol,
            "port": self.port,
            "baseDomainPort": self.base_domain_port(),
            "helmReleaseNamespace": namespace,
        });
        value.as_object().cloned().unwrap_or_default()
    }

    /// The variables string values of `spec.values` are rendered with (spec §5.6.4 step 4): the four keys at the
    /// top and again under `Values`.
    pub fn spec_value_vars(&self) -> Value {
        let four = json!({
            "baseDomain": self.base_domain,
            "baseDomainPort": self.base_domain_port(),
            "port": self.port,
            "baseDomainWithPort": self.base_domain_port(),
        });
        let mut data = four.clone();
        data["Values"] = four;
        data
    }
}
