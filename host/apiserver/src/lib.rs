//! Embedded Kubernetes + kcp compatible API server.
