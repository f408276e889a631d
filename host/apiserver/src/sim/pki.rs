//! TLS material for the simulators (a CA and leaf certificates from rcgen) and the Secrets that carry it.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ObjectMeta, PostParams};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use super::controller::{Context, ReconcileError};

/// A self-signed certificate authority that can sign leaf certificates.
pub struct Ca {
    /// The CA certificate, PEM.
    pub cert_pem: String,
    /// The CA private key, PEM.
    pub key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A leaf certificate and its key.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PEM.
    pub key_pem: String,
}

impl Ca {
    /// Generates a new CA with `common_name`.
    pub fn generate(common_name: &str) -> Result<Self, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// Signs a leaf certificate for `common_name` valid for `dns_names` (client and server auth).
    pub fn sign(&self, common_name: &str, dns_names: &[String]) -> Result<Leaf, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(dns_names.to_vec())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Creates namespace `name` in `cluster` unless it exists.
pub async fn ensure_namespace(
    ctx: &Context,
    cluster: Option<&str>,
    name: &str,
) -> Result<(), ReconcileError> {
    let api: Api<Namespace> = Api::all(ctx.client(cluster)?);
    if api.get_opt(name).await?.is_some() {
        return Ok(());
    }
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A Secret to write: type, data and annotations.
#[derive(Clone, Debug, Default)]
pub struct SecretSpec {
    /// `type`, e.g. `kubernetes.io/tls`.
    pub type_: String,
    /// Decoded data.
    pub data: BTreeMap<String, Vec<u8>>,
    /// Annotations to set.
    pub annotations: BTreeMap<String, String>,
}

/// Creates Secret `ns/name` in `cluster`, or replaces it when `stale(existing)` says it no longer fits.
///
/// Returns the Secret as it is afterwards. Existing, still fitting Secrets are left untouched so that steady state
/// writes nothing and consumers see stable key material.
pub async fn ensure_secret(
    ctx: &Context,
    cluster: Option<&str>,
    ns: &str,
    name: &str,
    stale: impl Fn(&Secret) -> bool,
    build: impl FnOnce() -> Result<SecretSpec, ReconcileError>,
) -> Result<Secret, ReconcileError> {
    let api: Api<Secret> = Api::namespaced(ctx.client(cluster)?, ns);
    let existing = api.get_opt(name).await?;
    if let Some(s) = existing.as_ref().filter(|s| !stale(s)) {
        return Ok(s.clone());
    }
    let spec = build()?;
    let mut secret = existing.clone().unwrap_or_default();
    secret.metadata.name = Some(name.to_string());
    secret.metadata.namespace = Some(ns.to_string());
    secret.metadata.managed_fields = None;
    secret
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .extend(spec.annotations);
    secret.type_ = Some(spec.type_);
    secret.data = Some(spec.data.into_iter().map(|(k, v)| (k, ByteString(v))).collect());
    secret.string_data = None;
    let written = match existing {
        Some(_) => api.replace(name, &PostParams::default(), &secret).await?,
        None => api.create(&PostParams::default(), &secret).await?,
    };
    Ok(written)
}

/// The decoded value of `key` in `secret`, if present.
pub fn secret_value<'a>(secret: &'a Secret, key: &str) -> Option<&'a [u8]> {
    secret.data.as_ref()?.get(key).map(|b| b.0.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_signs_leaf_certificates() {
        let ca = Ca::generate("test-ca").expect("ca");
        assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(ca.key_pem.contains("PRIVATE KEY"));
        let leaf = ca.sign("leaf", &["a.example".to_string()]).expect("leaf");
        assert!(leaf.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_ne!(leaf.cert_pem, ca.cert_pem);
        let again = ca.sign("leaf", &["a.example".to_string()]).expect("leaf");
        assert_ne!(again.key_pem, leaf.key_pem, "every leaf gets its own key");
    }
}
