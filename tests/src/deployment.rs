//! The deployment scenarios' platform: the embedded server with every simulator (answering after 20 ms), chosen
//! samples, and the operator with the deployment and wait plugins running against it.

use std::{path::Path, time::Duration};

use apiserver::sim::SimConfig;
use kube::{Api, Client, api::DynamicObject};
use serde_json::Value;

use crate::{
    api::dynamic,
    operator::{self, Operator, Want},
    platform::{self, NS},
    wait::{self, Counter},
};

/// The server, a client of it, and the running operator.
pub struct Platform {
    pub server: apiserver::Server,
    pub client: Client,
    pub operator: Operator,
}

/// Starts the server, applies `objects`, and runs the operator with `workspace` as its workspace directory.
pub async fn start(workspace: &Path, objects: Vec<Value>) -> anyhow::Result<Platform> {
    let server = platform::server(SimConfig::all().with_delay(Duration::from_millis(20))).await?;
    let client = server.client();
    platform::apply_all(&client, objects).await?;
    let mut config = operator::config(&server, workspace, &[])?;
    // The deployment and wait plugins only: kcp-setup and the provider secrets are other tests' business.
    config.subroutines.subroutines_deployment_enable_istio = false;
    config.subroutines.subroutines_kcp_setup_enabled = false;
    config.subroutines.subroutines_provider_secret_enabled = false;
    config.subroutines.subroutines_feature_toggles_enabled = false;
    let operator = Operator::spawn(&config, &operator::clients(&server)?);
    Ok(Platform {
        server,
        client,
        operator,
    })
}

impl Platform {
    /// Waits (up to `timeout`) for a change of condition `type_` to `status`; returns its message.
    pub async fn wait_for(&mut self, type_: &str, status: &str, timeout: Duration) -> anyhow::Result<String> {
        self.operator
            .message(Want::condition(type_, status).within(timeout))
            .await
    }

    /// A dynamic API for a namespaced kind in [`NS`].
    pub fn api(&self, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
        dynamic(&self.client, api_version, kind, plural, Some(NS))
    }

    pub fn helm_releases(&self) -> Api<DynamicObject> {
        platform::helm_releases(&self.client, Some(NS))
    }

    pub fn applications(&self) -> Api<DynamicObject> {
        self.api("argoproj.io/v1alpha1", "Application", "applications")
    }

    pub fn ocm_resources(&self) -> Api<DynamicObject> {
        self.api("delivery.ocm.software/v1alpha1", "Resource", "resources")
    }

    /// Waits until no write arrived for `quiet`.
    pub async fn settle(&self, quiet: Duration) -> anyhow::Result<()> {
        wait::settle(&self.server, Counter::Writes, quiet, Duration::from_secs(120)).await
    }

    /// Stops the operator and the server.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.operator.stop().await?;
        self.server.shutdown().await;
        Ok(())
    }
}
