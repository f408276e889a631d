//! PEM certificate bundles: split, check, de-duplicate by DER (spec §7.2 step 6, §7.3 step 7).

use base64::{Engine, engine::general_purpose::STANDARD};

/// One certificate, as DER bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate(pub Vec<u8>);

impl Certificate {
    /// The certificate as one PEM block (64-character lines, trailing newline).
    pub fn to_pem(&self) -> String {
        let b64 = STANDARD.encode(&self.0);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }
}

/// Whether `der` is one complete DER SEQUENCE (the outer shape of every X.509 certificate). Anything else is
/// skipped as unparsable, like upstream skips what x509 parsing rejects.
fn is_der_sequence(der: &[u8]) -> bool {
    let [0x30, len, rest @ ..] = der else {
        return false;
    };
    let (length, body) = if len & 0x80 == 0 {
        (usize::from(*len), rest)
    } else {
        let count = usize::from(len & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return false;
        }
        let (digits, body) = rest.split_at(count);
        (
            digits.iter().fold(0usize, |n, d| (n << 8) | usize::from(*d)),
            body,
        )
    };
    length == body.len() && length > 0
}

/// The certificates in a PEM text, in order. Blocks of other types and broken certificates are skipped.
pub fn certificates(pem: &str) -> Vec<Certificate> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else {
            break;
        };
        if label == "CERTIFICATE" {
            let text: String = body_start[..end].chars().filter(|c| !c.is_whitespace()).collect();
            if let Ok(der) = STANDARD.decode(text)
                && is_der_sequence(&der)
            {
                out.push(Certificate(der));
            }
        }
        rest = &body_start[end + end_marker.len()..];
    }
    out
}

/// An ordered set of certificates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle(Vec<Certificate>);

impl Bundle {
    /// Adds every certificate of `pem` that is not in the bundle yet.
    pub fn add_pem(&mut self, pem: &str) {
        for cert in certificates(pem) {
            self.add(cert);
        }
    }

    /// Adds `cert` unless the bundle has it.
    pub fn add(&mut self, cert: Certificate) {
        if !self.0.contains(&cert) {
            self.0.push(cert);
        }
    }

    /// Whether the bundle holds no certificate.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bundle as concatenated PEM blocks.
    pub fn to_pem(&self) -> String {
        self.0.iter().map(Certificate::to_pem).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A syntactically complete DER sequence wrapped as a certificate PEM block.
    pub fn fake_cert(seed: u8) -> String {
        Certificate(vec![0x30, 0x03, 0x02, 0x01, seed]).to_pem()
    }

    #[test]
    fn splits_checks_and_deduplicates() {
        let broken = "-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n";
        let key = "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n";
        let text = format!("{}{broken}{key}{}{}", fake_cert(1), fake_cert(2), fake_cert(1));
        assert_eq!(certificates(&text).len(), 3);
        let mut bundle = Bundle::default();
        bundle.add_pem(&text);
        assert_eq!(bundle.to_pem(), format!("{}{}", fake_cert(1), fake_cert(2)));
    }

    #[test]
    fn long_form_lengths_are_checked() {
        let mut der = vec![0x30, 0x81, 0x80];
        der.extend(std::iter::repeat_n(0u8, 0x80));
        assert!(is_der_sequence(&der));
        der.push(0);
        assert!(!is_der_sequence(&der));
        assert!(!is_der_sequence(&[0x31, 0x01, 0x00]));
    }
}
