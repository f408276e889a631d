//! A hostile plugin, driven by its plugin config or the reconciled object's spec: `{"ops": [op, ...]}` runs each op against the raw WIT imports
//! (no SDK convenience in between, so the host sees exactly the strings given) and returns an `ok` outcome whose
//! message is a JSON array with one result per op: `"ok: <summary>"` or `"<error kind>: <message>"`. The host
//! test (`host/operator/tests/it/hostile_plugin.rs`) holds the matrix of ops and what the host must answer.
//!
//! An op is an object with `op` and its arguments. Every string argument may instead be a generator
//! `{"repeat": s, "times": n, "prefix": p, "suffix": q}`, so megabytes of input or 100,000 levels of nesting are
//! built inside the guest instead of being shipped in the config. Targets are `"runtime"`, `"infra"`,
//! `"kcp:<path>"` or `{"remote": [namespace, name, key]}`.
//!
//! Ops: `get`, `list`, `apply`, `create`, `update`, `patch`, `delete`, `patch-status`, `request-token`,
//! `render-dir`, `render-file`, `render-string`, `parse-yaml`, `to-yaml`, `image-set` (with `count` entries),
//! `image-get`, `log` (with `fields` entries), and the ABI-level ops `raw-log-oob`, `raw-log-invalid-utf8` and
//! `raw-log-huge-list`, which pass pointers past the end of memory, bytes that are not UTF-8 and a list length
//! of 2^31 - 1 straight to the canonical ABI (only the host's lifting stands between them and the host; they
//! trap, ending the call).

use platform_mesh_plugin_sdk::{
    CallResult, Context, Failure, Host, Plugin, PluginInfo, Reconciled,
    bindings::platform_mesh::operator::{cluster, image_versions, log, templates, types},
};
use serde_json::Value;

/// The plugin.
pub struct Hostile;

/// A string argument: literal, or built from a generator object.
fn text(op: &Value, key: &str) -> String {
    match op.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(g)) => {
            let part = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or_default();
            let times = g.get("times").and_then(Value::as_u64).unwrap_or(1);
            let times = usize::try_from(times).unwrap_or(usize::MAX);
            let mut out = String::from(part("prefix"));
            out.push_str(&part("repeat").repeat(times));
            out.push_str(part("suffix"));
            out
        }
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn optional(op: &Value, key: &str) -> Option<String> {
    op.get(key).filter(|v| !v.is_null()).map(|_| text(op, key))
}

fn number(op: &Value, key: &str) -> u64 {
    op.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn target(op: &Value) -> types::Target {
    match op.get("target") {
        Some(Value::Object(o)) => {
            let part = |i: usize| {
                o.get("remote")
                    .and_then(|r| r.get(i))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            types::Target::Remote(types::KubeconfigRef {
                namespace: part(0),
                name: part(1),
                key: part(2),
            })
        }
        _ => {
            let t = text(op, "target");
            match t.split_once(':') {
                Some(("kcp", path)) => types::Target::Kcp(path.to_owned()),
                _ if t == "infra" => types::Target::Infra,
                _ => types::Target::Runtime,
            }
        }
    }
}

fn gvk(op: &Value) -> types::Gvk {
    let api_version = text(op, "apiVersion");
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    types::Gvk {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: text(op, "kind"),
    }
}

fn object_ref(op: &Value) -> types::ObjectRef {
    types::ObjectRef {
        gvk: gvk(op),
        namespace: optional(op, "namespace"),
        name: text(op, "name"),
    }
}

fn cluster_error(e: types::Error) -> String {
    let (kind, message) = match e {
        types::Error::NotFound(m) => ("not-found", m),
        types::Error::AlreadyExists(m) => ("already-exists", m),
        types::Error::Forbidden(m) => ("forbidden", m),
        types::Error::Conflict(m) => ("conflict", m),
        types::Error::Invalid(m) => ("invalid", m),
        types::Error::Unavailable(m) => ("unavailable", m),
        types::Error::Other(m) => ("other", m),
    };
    format!("{kind}: {message}")
}

fn render_error(e: templates::RenderError) -> String {
    format!("render-error: {}: {}", e.source, e.message)
}

/// `ok: <n> bytes` for a returned string: the host's answers are summarised, never echoed whole.
fn sized(text: &str) -> String {
    format!("ok: {} bytes", text.len())
}

fn funcs(op: &Value) -> templates::Funcs {
    if text(op, "funcs") == "manifest" {
        templates::Funcs::Manifest
    } else {
        templates::Funcs::Deployment
    }
}

fn run(op: &Value) -> String {
    let name = text(op, "op");
    let t = target(op);
    let cluster_result = |r: Result<String, types::Error>| r.map_or_else(cluster_error, |s| sized(&s));
    match name.as_str() {
        "get" => match cluster::get(&t, &object_ref(op)) {
            Ok(Some(found)) => sized(&found),
            Ok(None) => "ok: none".into(),
            Err(e) => cluster_error(e),
        },
        "list" => match cluster::list(
            &t,
            &gvk(op),
            optional(op, "namespace").as_deref(),
            optional(op, "selector").as_deref(),
        ) {
            Ok(items) => format!(
                "ok: {} items, {} bytes",
                items.len(),
                items.iter().map(String::len).sum::<usize>()
            ),
            Err(e) => cluster_error(e),
        },
        "apply" => {
            let options = cluster::ApplyOptions {
                field_manager: optional(op, "manager").unwrap_or_else(|| "hostile".into()),
                force: true,
            };
            cluster_result(cluster::apply(&t, &text(op, "object"), &options))
        }
        "create" => cluster_result(cluster::create(&t, &text(op, "object"))),
        "update" => cluster_result(cluster::update(&t, &text(op, "object"))),
        "patch" => cluster_result(cluster::patch(
            &t,
            &object_ref(op),
            cluster::PatchKind::Merge,
            &text(op, "patch"),
        )),
        "delete" => match cluster::delete(&t, &object_ref(op)) {
            Ok(deleted) => format!("ok: {deleted}"),
            Err(e) => cluster_error(e),
        },
        "patch-status" => cluster_result(cluster::patch_status(&t, &object_ref(op), &text(op, "patch"))),
        "request-token" => {
            let seconds = op.get("seconds").and_then(Value::as_i64).unwrap_or(3600);
            cluster_result(cluster::request_token(
                &t,
                &text(op, "namespace"),
                &text(op, "name"),
                seconds,
            ))
        }
        "render-dir" => {
            let options = templates::RenderOptions {
                funcs: funcs(op),
                technology_filter: None,
            };
            match templates::render_dir(&text(op, "path"), &text(op, "vars"), options) {
                Ok(docs) => format!("ok: {} documents", docs.len()),
                Err(e) => render_error(e),
            }
        }
        "render-file" => match templates::render_file(&text(op, "path"), &text(op, "vars"), funcs(op)) {
            Ok(docs) => format!("ok: {} documents", docs.len()),
            Err(e) => render_error(e),
        },
        "render-string" => {
            templates::render_string("hostile", &text(op, "text"), &text(op, "vars"), funcs(op))
                .map_or_else(render_error, |s| sized(&s))
        }
        "parse-yaml" => {
            templates::parse_yaml("hostile", &text(op, "text")).map_or_else(render_error, |s| sized(&s))
        }
        "to-yaml" => templates::to_yaml(&text(op, "json")).map_or_else(render_error, |s| sized(&s)),
        "image-set" => {
            let (namespace, release) = (text(op, "namespace"), text(op, "name"));
            let count = number(op, "count").max(1);
            for i in 0..count {
                let entry = image_versions::ImageVersion {
                    path: format!("{}{i}", text(op, "path")),
                    version: text(op, "version"),
                };
                image_versions::set(&namespace, &release, &entry);
            }
            image_versions::set_unsuspended(&namespace, &release);
            format!("ok: {count} set")
        }
        "image-get" => {
            let (namespace, release) = (text(op, "namespace"), text(op, "name"));
            let entries = image_versions::get(&namespace, &release);
            let unsuspended = image_versions::is_unsuspended(&namespace, &release);
            format!("ok: {} entries, unsuspended {unsuspended}", entries.len())
        }
        "log" => {
            let fields: Vec<(String, String)> = (0..number(op, "fields"))
                .map(|i| (format!("k{i}"), text(op, "value")))
                .collect();
            log::log(log::Level::Info, &text(op, "message"), &fields);
            "ok: logged".into()
        }
        "raw-log-oob" | "raw-log-invalid-utf8" | "raw-log-huge-list" => raw::call(&name),
        other => format!("unknown op {other}"),
    }
}

/// Calls into the canonical ABI below the generated bindings. Only meaningful inside wasm.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod raw {
    #[link(wasm_import_module = "platform-mesh:operator/log@0.1.0")]
    unsafe extern "C" {
        /// `log(level, message, fields)` flattened: level, message pointer and length, fields pointer and length.
        #[link_name = "log"]
        fn raw_log(level: i32, message: *const u8, message_len: usize, fields: *const u8, fields_len: usize);
    }

    pub fn call(op: &str) -> String {
        let invalid: [u8; 4] = [0xff, 0xfe, b'a', 0x80];
        let valid = b"fine";
        // SAFETY: the host reads these arguments through the canonical ABI, which bounds-checks every pointer
        // and length against this instance's memory and validates UTF-8; nothing on this side is dereferenced.
        unsafe {
            match op {
                "raw-log-oob" => raw_log(2, (usize::MAX - 16) as *const u8, 1 << 20, valid.as_ptr(), 0),
                "raw-log-invalid-utf8" => raw_log(2, invalid.as_ptr(), invalid.len(), valid.as_ptr(), 0),
                _ => raw_log(2, valid.as_ptr(), valid.len(), valid.as_ptr(), i32::MAX as usize),
            }
        }
        format!("ok: the host accepted {op}")
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod raw {
    pub fn call(op: &str) -> String {
        format!("unsupported outside wasm: {op}")
    }
}

impl Plugin for Hostile {
    fn info() -> PluginInfo {
        PluginInfo::new("HostileSubroutine", "0.1.0")
    }

    fn process(_host: &dyn Host, ctx: &Context) -> CallResult {
        let ops = ctx
            .plugin_config
            .get("ops")
            .or_else(|| ctx.field("/spec/ops"))
            .and_then(Value::as_array)
            .ok_or_else(|| Failure::new("needs `ops` in the plugin config or the object's spec"))?;
        let results: Vec<Value> = ops.iter().map(|op| Value::String(run(op))).collect();
        Ok(Reconciled::ok().with_message(Value::Array(results).to_string()))
    }
}

platform_mesh_plugin_sdk::export_plugin!(Hostile);
