//! Kubeconfigs read from Secrets are untrusted: whoever can write the Secret chooses what is in it, and that is
//! often someone with far fewer rights than the operator (a ManagedProvider author, a tenant). kube's loader
//! honours `exec` and `auth-provider` (both can run a program in the operator's container), `tokenFile` and the
//! certificate, key and CA file paths (which read the operator's own files, such as its ServiceAccount token, and
//! send them to a server of the writer's choosing). So such a kubeconfig is checked before any client is built:
//! inline data only.
//!
//! Errors name the offending field by its position (`users[0].user.exec`), never a value from the Secret, and a
//! parse error says where, not what: the YAML parser's own message quotes the text it could not read.
//!
//! The operator's own `--kubeconfig` and `--remote-*-kubeconfig` files are written by its administrator and are
//! loaded as upstream loads them, elsewhere.

use kube::{
    Config,
    config::{KubeConfigOptions, Kubeconfig, KubeconfigError},
};

/// Why a kubeconfig from a Secret is not used. The message holds no value from the Secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(String);

impl Refused {
    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// Parses a kubeconfig from a Secret and refuses every field that runs a program or reads a file.
pub fn parse_untrusted(text: &str) -> Result<Kubeconfig, Refused> {
    let kubeconfig = Kubeconfig::from_yaml(text).map_err(|e| Refused(parse_error(&e)))?;
    check(&kubeconfig)?;
    Ok(kubeconfig)
}

/// The client configuration of a checked kubeconfig (its current context). Errors are described without the
/// names or values they concern.
pub async fn config_of(kubeconfig: Kubeconfig) -> Result<Config, Refused> {
    // `check` leaves nothing for the loader to read from disk; this holds again here so that a caller that
    // skipped `parse_untrusted` cannot load files either.
    check(&kubeconfig)?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| Refused(load_error(&e)))
}

/// Fields that make kube run a program or read a file, by where they live.
const USER_FIELDS: [&str; 5] = [
    "exec",
    "auth-provider",
    "tokenFile",
    "client-certificate",
    "client-key",
];

fn refused(field: String) -> Refused {
    Refused(format!(
        "field {field} is not allowed in a kubeconfig read from a Secret (only inline data: no programs, no \
         file paths)"
    ))
}

fn check(kubeconfig: &Kubeconfig) -> Result<(), Refused> {
    for (index, named) in kubeconfig.clusters.iter().enumerate() {
        if named
            .cluster
            .as_ref()
            .is_some_and(|c| c.certificate_authority.is_some())
        {
            return Err(refused(format!(
                "clusters[{index}].cluster.certificate-authority"
            )));
        }
    }
    for (index, named) in kubeconfig.auth_infos.iter().enumerate() {
        let Some(user) = named.auth_info.as_ref() else {
            continue;
        };
        let present = [
            user.exec.is_some(),
            user.auth_provider.is_some(),
            user.token_file.is_some(),
            user.client_certificate.is_some(),
            user.client_key.is_some(),
        ];
        if let Some((field, _)) = USER_FIELDS.iter().zip(present).find(|(_, p)| *p) {
            return Err(refused(format!("users[{index}].user.{field}")));
        }
    }
    Ok(())
}

fn parse_error(error: &KubeconfigError) -> String {
    let place = match error {
        KubeconfigError::Parse(e) => e
            .location()
            .map(|l| format!(" (line {}, column {})", l.line(), l.column())),
        _ => None,
    };
    format!(
        "the kubeconfig is not valid YAML in kubeconfig form{}",
        place.unwrap_or_default()
    )
}

/// Fixed descriptions: kube's own messages carry context and user names or parser excerpts.
fn load_error(error: &KubeconfigError) -> String {
    let what = match error {
        KubeconfigError::CurrentContextNotSet => "it has no current-context",
        KubeconfigError::LoadContext(_) => "its current-context names no context",
        KubeconfigError::LoadClusterOfContext(_) => "the current context names no cluster",
        KubeconfigError::MissingClusterUrl => "the current cluster has no server",
        KubeconfigError::ParseClusterUrl(_) => "the current cluster's server is not a URL",
        KubeconfigError::ParseProxyUrl(_) => "the current cluster's proxy-url is not a URL",
        KubeconfigError::LoadCertificateAuthority(_) => "certificate-authority-data cannot be decoded",
        KubeconfigError::LoadClientCertificate(_) => "client-certificate-data cannot be decoded",
        KubeconfigError::LoadClientKey(_) => "client-key-data cannot be decoded",
        KubeconfigError::ParseCertificates(_) => "the certificates are not PEM",
        _ => "it cannot be loaded",
    };
    format!("the kubeconfig cannot be used: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal inline kubeconfig with `extra_cluster` and `extra_user` lines added (indented for the entry).
    fn kubeconfig(extra_cluster: &str, extra_user: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://tenant.example:6443\n\
             {extra_cluster}users:\n- name: u\n  user:\n    token: SECRET-TOKEN-VALUE\n{extra_user}contexts:\n\
             - name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        )
    }

    fn refusal(text: &str) -> String {
        parse_untrusted(text).expect_err("refused").message().to_owned()
    }

    #[test]
    fn inline_kubeconfigs_are_accepted() {
        let parsed = parse_untrusted(&kubeconfig("", "")).expect("inline data only");
        assert_eq!(parsed.clusters.len(), 1);
    }

    #[test]
    fn every_program_and_file_field_is_refused_by_name() {
        let cases = [
            (
                "",
                "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n",
                "users[0].user.exec",
            ),
            (
                "",
                "    auth-provider:\n      name: gcp\n      config: {cmd-path: /bin/sh, cmd-args: -c id}\n",
                "users[0].user.auth-provider",
            ),
            (
                "",
                "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n",
                "users[0].user.tokenFile",
            ),
            (
                "",
                "    client-certificate: /etc/operator/tls.crt\n",
                "users[0].user.client-certificate",
            ),
            (
                "",
                "    client-key: /etc/operator/tls.key\n",
                "users[0].user.client-key",
            ),
            (
                "    certificate-authority: /etc/operator/ca.crt\n",
                "",
                "clusters[0].cluster.certificate-authority",
            ),
        ];
        for (cluster, user, field) in cases {
            let message = refusal(&kubeconfig(cluster, user));
            assert!(message.contains(field), "{field}: {message}");
            for leaked in [
                "/bin/sh",
                "/var/run",
                "/etc/operator",
                "SECRET-TOKEN-VALUE",
                "tenant.example",
            ] {
                assert!(!message.contains(leaked), "{field}: {message} echoes {leaked}");
            }
        }
    }

    #[test]
    fn entries_the_current_context_does_not_use_are_checked_too() {
        let text = kubeconfig("", "").replace(
            "contexts:",
            "- name: other\n  user:\n    tokenFile: /x\ncontexts:",
        );
        assert!(
            refusal(&text).contains("users[1].user.tokenFile"),
            "{}",
            refusal(&text)
        );
    }

    #[test]
    fn parse_errors_do_not_echo_the_secret() {
        for text in [
            "clusters: SECRET-TOKEN-VALUE\n",
            "users:\n- name: u\n  user:\n    token: [SECRET-TOKEN-VALUE\n",
            "SECRET-TOKEN-VALUE: {\n",
        ] {
            let message = refusal(text);
            assert!(
                message.starts_with("the kubeconfig is not valid YAML"),
                "{message}"
            );
            assert!(!message.contains("SECRET"), "{message}");
        }
    }

    #[tokio::test]
    async fn load_errors_do_not_echo_names() {
        let text = kubeconfig("", "").replace("current-context: x", "current-context: SECRET-CONTEXT");
        let parsed = parse_untrusted(&text).expect("parses");
        let message = config_of(parsed)
            .await
            .expect_err("no such context")
            .message()
            .to_owned();
        assert_eq!(
            message,
            "the kubeconfig cannot be used: its current-context names no context"
        );
        let config = config_of(parse_untrusted(&kubeconfig("", "")).expect("parses"))
            .await
            .expect("loads");
        assert_eq!(config.cluster_url.host(), Some("tenant.example"));
    }
}
