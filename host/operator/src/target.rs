//! Where an object lives: the clusters a subroutine and the host API address (a leaf module, so that both the
//! lifecycle engine and the cluster clients use it without importing each other).

/// Where an object lives, as seen by a subroutine (mirrors the WIT `target`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The cluster the operator watches.
    Runtime,
    /// The cluster where Flux or Argo CD run.
    Infra,
    /// A kcp workspace, by path (`root:orgs`).
    Kcp(String),
    /// A cluster reached through a kubeconfig in a Secret of the runtime cluster.
    Remote(KubeconfigRef),
}

/// A kubeconfig stored in a Secret of the runtime cluster (mirrors the WIT `kubeconfig-ref`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KubeconfigRef {
    /// The Secret's namespace.
    pub namespace: String,
    /// The Secret's name.
    pub name: String,
    /// The data key holding the kubeconfig.
    pub key: String,
}
