//! ServiceAccount tokens of scoped kubeconfigs. Upstream mints a new 7-day token on every reconcile and rewrites
//! the Secret each time (spec §11.4 item 41); here a token is reused while it is valid for more than half of its
//! lifetime, and the pass asks to be reconciled again when that half is over. The Secret's annotations remember
//! when the token was issued, when it expires and which ServiceAccount (by UID) it belongs to.

use std::{collections::BTreeMap, time::Duration};

use platform_mesh_plugin_sdk::{Host, Target, timestamp};
use serde_json::Value;

use crate::kubeconfig;

/// Lifetime requested for every token (upstream: 7 days).
pub const LIFETIME_SECONDS: i64 = 604_800;
/// Annotation: when the token in the Secret was issued (RFC 3339).
pub const ISSUED_AT: &str = "provider-secret.platform-mesh.io/token-issued-at";
/// Annotation: when it expires (RFC 3339).
pub const EXPIRES_AT: &str = "provider-secret.platform-mesh.io/token-expires-at";
/// Annotation: the UID of the ServiceAccount it was issued for.
pub const SERVICE_ACCOUNT_UID: &str = "provider-secret.platform-mesh.io/service-account-uid";

/// A token and its validity window (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub value: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub service_account_uid: String,
}

impl Token {
    /// The instant after which a new token is requested: half-way through its lifetime.
    pub fn renew_at(&self) -> i64 {
        self.issued_at + (self.expires_at - self.issued_at) / 2
    }

    /// How long until [`Token::renew_at`], at least one second.
    pub fn refresh_after(&self, now: i64) -> Duration {
        Duration::from_secs((self.renew_at() - now).max(1) as u64)
    }

    /// The annotations that describe this token on its Secret.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (ISSUED_AT.to_owned(), timestamp::format(self.issued_at)),
            (EXPIRES_AT.to_owned(), timestamp::format(self.expires_at)),
            (SERVICE_ACCOUNT_UID.to_owned(), self.service_account_uid.clone()),
        ])
    }
}

/// The token stored in `secret`, if it belongs to the ServiceAccount with `uid` and is valid for more than half
/// of its lifetime at `now`.
pub fn reusable(host: &dyn Host, secret: &Value, uid: &str, now: i64) -> Option<Token> {
    let annotation = |key: &str| secret.pointer("/metadata/annotations")?.get(key)?.as_str();
    let issued_at = timestamp::parse(annotation(ISSUED_AT)?)?;
    let expires_at = timestamp::parse(annotation(EXPIRES_AT)?)?;
    if annotation(SERVICE_ACCOUNT_UID)? != uid || expires_at <= issued_at {
        return None;
    }
    let text = kubeconfig::secret_value(secret, "kubeconfig")?;
    let value = kubeconfig::token_of(&kubeconfig::parse(host, "stored kubeconfig", &text).ok()?)?;
    let token = Token {
        value,
        issued_at,
        expires_at,
        service_account_uid: uid.to_owned(),
    };
    (now < token.renew_at()).then_some(token)
}

/// Requests a new token for `namespace/service_account` in kcp workspace `workspace`.
pub fn request(
    host: &dyn Host,
    workspace: &str,
    namespace: &str,
    service_account: &str,
    uid: &str,
    now: i64,
) -> Result<Token, String> {
    let what = format!("ServiceAccount {namespace}/{service_account} in workspace {workspace}");
    let response = host
        .request_token(
            &Target::kcp(workspace),
            namespace,
            service_account,
            LIFETIME_SECONDS,
        )
        .map_err(|e| format!("requesting a token for {what}: {e}"))?;
    let value = response
        .pointer("/status/token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("the token requested for {what} is empty"))?;
    let expires_at = response
        .pointer("/status/expirationTimestamp")
        .and_then(Value::as_str)
        .and_then(timestamp::parse)
        .unwrap_or(now + LIFETIME_SECONDS);
    Ok(Token {
        value: value.to_owned(),
        issued_at: now,
        expires_at,
        service_account_uid: uid.to_owned(),
    })
}
