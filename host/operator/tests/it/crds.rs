//! The generated CRDs: kept in sync with `deploy/crds/`, and carrying the schema features the spec requires.

use std::path::PathBuf;

use platform_mesh_operator::crd::{self, PlatformMesh};
use serde_json::{Value, json};

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds")
}

/// `deploy/crds/<name>.yaml` must equal what the types generate; set `PMO_UPDATE_CRDS=1` to rewrite them.
#[test]
fn deploy_crds_match_generated_types() {
    let dir = deploy_dir();
    let update = std::env::var_os("PMO_UPDATE_CRDS").is_some();
    for crd in crd::all_crds() {
        let path = dir.join(crd::crd_file_name(&crd));
        let generated = format!("---\n{}", crd::crd_yaml(&crd).unwrap());
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "{} is out of date with the Rust types; regenerate with \
             `PMO_UPDATE_CRDS=1 cargo test -p platform-mesh-operator --test it -- crds`",
            path.display()
        );
    }
}

fn schema_of(name: &str) -> Value {
    let crd = crd::all_crds()
        .into_iter()
        .find(|c| c.metadata.name.as_deref() == Some(name))
        .unwrap();
    serde_json::to_value(&crd.spec.versions[0]).unwrap()
}

#[test]
fn platformmesh_printer_columns_in_spec_order() {
    let version = schema_of("platformmeshes.core.platform-mesh.io");
    let names: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "KCP",
            "KCP_REASON",
            "SECRET",
            "SECRET_REASON",
            "DEPLOYMENT",
            "DEPLOYMENT_REASON",
            "WAIT",
            "WAIT_REASON",
            "Ready"
        ]
    );
    assert_eq!(version["additionalPrinterColumns"][1]["priority"], 1);
    assert_eq!(version["subresources"]["status"], json!({}));
}

#[test]
fn provider_kubeconfig_column_points_at_real_field() {
    let version = schema_of("providers.providers.platform-mesh.io");
    let column = &version["additionalPrinterColumns"][1];
    assert_eq!(column["name"], "KubeconfigSecret");
    assert_eq!(column["jsonPath"], ".status.providerKubeconfigSecretRef.name");
    let crd = crd::all_crds().into_iter().nth(1).unwrap();
    assert_eq!(crd.spec.scope, "Cluster");
}

#[test]
fn platformmesh_schema_has_defaults_preserve_and_list_maps() {
    let version = schema_of("platformmeshes.core.platform-mesh.io");
    let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
    assert_eq!(
        spec["ocm"]["properties"]["repo"]["properties"]["name"]["default"],
        "platform-mesh"
    );
    assert_eq!(
        spec["ocm"]["properties"]["component"]["properties"]["name"]["default"],
        "platform-mesh"
    );
    assert_eq!(spec["values"]["x-kubernetes-preserve-unknown-fields"], true);
    assert_eq!(spec["infraValues"]["x-kubernetes-preserve-unknown-fields"], true);
    let item = &spec["wait"]["properties"]["resourceTypes"]["items"];
    assert_eq!(item["x-kubernetes-map-type"], "atomic");
    // group/version/kind may come from the nested aliases instead, so none is required by the schema.
    assert_eq!(item["required"], Value::Null);
    for alias in [
        "apiVersions",
        "groupKind",
        "labelSelector",
        "statusFieldPath",
        "statusFieldValue",
    ] {
        assert!(item["properties"][alias].is_object(), "{alias}");
    }
    assert_eq!(
        item["properties"]["matchExpressions"]["x-kubernetes-list-type"],
        "atomic"
    );
    assert_eq!(spec["profileConfigMap"]["properties"]["name"]["minLength"], 1);
    assert_eq!(spec["profileConfigMap"]["required"], json!(["name"]));
    let connection = &spec["kcp"]["properties"]["providerConnections"]["items"];
    assert_eq!(connection["required"], json!(["secret"]));
    let rule = connection["x-kubernetes-validations"][0]["rule"]
        .as_str()
        .unwrap();
    assert!(
        rule.contains("endpointSliceName") && rule.contains("apiExportName"),
        "{rule}"
    );
    let status = &version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"];
    assert_eq!(status["conditions"]["x-kubernetes-list-type"], "map");
    assert_eq!(
        status["conditions"]["x-kubernetes-list-map-keys"],
        json!(["type"])
    );
    assert_eq!(status["observedGeneration"]["format"], "int64");
}

#[test]
fn managedprovider_schema_has_flux_ocm_rule_and_enum() {
    let version = schema_of("managedproviders.providers.platform-mesh.io");
    let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(spec["required"], json!(["platformMeshRef", "runtimeDeployments"]));
    let item = &spec["properties"]["runtimeDeployments"]["items"];
    assert_eq!(
        item["x-kubernetes-validations"][0]["rule"],
        "has(self.flux) != has(self.ocm)"
    );
    let flux_type = &item["properties"]["flux"]["properties"]["type"];
    assert_eq!(flux_type["default"], "oci");
    assert_eq!(flux_type["enum"], json!(["oci", "helm"]));
    let path = &spec["properties"]["provider"]["properties"]["path"];
    assert!(path["pattern"].as_str().unwrap().starts_with("^[a-z0-9]"));
}

#[test]
fn platformmesh_sample_deserialises() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/samples/platformmesh.yaml"),
    )
    .unwrap();
    let pm: PlatformMesh = serde_norway::from_str(&text).unwrap();
    assert_eq!(pm.spec.ocm.unwrap().repo.unwrap().name, "platform-mesh");
}

/// `platform-mesh-operator crds` prints exactly the generated multi-document YAML.
#[test]
fn crds_command_prints_all_three() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_platform-mesh-operator"))
        .arg("crds")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout, crd::crds_yaml().unwrap());
    assert_eq!(stdout.matches("kind: CustomResourceDefinition").count(), 3);
}
