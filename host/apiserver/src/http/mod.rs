//! The HTTP front: one axum fallback handler that parses the path, applies faults, dispatches by verb and
//! records the request.

mod apiexport;
mod authz;
mod body;
mod builtin_schemas;
mod debug;
mod discovery;
mod negotiate;
mod objects;
mod openapi;
mod patch;
mod reviews;
mod route;
mod strategic;
mod table;
mod watch;

pub use apiexport::{ClusterFilter, ExportRef};
pub use route::{ClusterRef, ResourcePath, Route, parse};
pub use table::eval as jsonpath;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::Value;

use crate::debug::{RequestRecord, Verb};
use crate::server::Shared;
use crate::status::{ApiError, qualified};
use crate::store::{PLAIN, Store};
use objects::{Ctx, Outcome};

/// Largest accepted request body.
const MAX_BODY: usize = 64 << 20;

/// A buffered request.
pub struct Req {
    /// HTTP method.
    pub method: Method,
    /// Path without query.
    pub path: String,
    /// Decoded query parameters.
    pub query: HashMap<String, String>,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl Req {
    /// A query parameter.
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Whether the client asked for `meta.k8s.io` Table output.
    pub fn wants_table(&self) -> bool {
        self.header(header::ACCEPT)
            .split(',')
            .next()
            .is_some_and(|a| a.contains("as=Table"))
    }

    /// The field manager of a non-apply write: `fieldManager`, else the User-Agent's program name.
    pub fn manager(&self) -> String {
        if let Some(m) = self.q("fieldManager").filter(|m| !m.is_empty()) {
            return m.to_string();
        }
        let ua = self.header(header::USER_AGENT);
        let prog = ua.split('/').next().unwrap_or("").trim();
        if prog.is_empty() {
            "unknown".to_string()
        } else {
            prog.to_string()
        }
    }
}

fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(decode(k), decode(v));
    }
    out
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The router: everything goes through [`handle`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

pub(crate) fn json_response(code: u16, body: &Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

pub(crate) fn text_response(text: &'static str) -> Response {
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

pub(crate) fn error_response(e: &ApiError) -> Response {
    let mut resp = json_response(e.code, &e.to_status());
    if let Some(s) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return error_response(&ApiError::bad_request(format!("reading the body: {e}"))),
    };
    let mut req = Req {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parse_query(parts.uri.query()),
        headers: parts.headers,
        body,
    };
    // `/services/apiexport/<cluster>/<export>/clusters/...`: the export's virtual workspace (resources only).
    let (export, path) = match apiexport::split(&req.path) {
        Some((export, rest)) => (Some(export), rest),
        None => (None, req.path.clone()),
    };
    let parsed = parse(&path).filter(|(cref, route)| {
        export.is_none() || (*cref != ClusterRef::Plain && matches!(route, Route::Resource(_)))
    });
    let Some((cref, route)) = parsed else {
        shared.log.record(&RequestRecord {
            verb: Verb::Other,
            resource: String::new(),
            cluster: String::new(),
            changed: false,
            code: 404,
        });
        return error_response(&ApiError::no_route(&req.path));
    };
    if let Err(e) = authz::check(&shared, &req, &path, &cref, &route, export.as_ref()) {
        shared.log.record(&RequestRecord {
            verb: Verb::Other,
            resource: String::new(),
            cluster: cluster_label(&cref),
            changed: false,
            code: e.code,
        });
        return error_response(&e);
    }
    match route {
        Route::Resource(rp) => {
            if let Err(e) = negotiate::decode_request(&mut req) {
                shared.log.record(&RequestRecord {
                    verb: Verb::Other,
                    resource: qualified(&rp.group, &rp.plural),
                    cluster: cluster_label(&cref),
                    changed: false,
                    code: e.code,
                });
                return negotiate::respond_error(&req, &e);
            }
            resource_request(&shared, &req, &cref, &rp, export).await
        }
        Route::Debug(rest) => debug::handle(&shared, &req, &rest),
        other => {
            let (code, resp) = match non_resource(&shared, &cref, &other) {
                // Health endpoints answer plain text, as Kubernetes' do.
                Ok(_) if other == Route::Health => (200, text_response("ok")),
                Ok(v) => (200, json_response(200, &v)),
                Err(e) => (e.code, error_response(&e)),
            };
            let cluster = cluster_label(&cref);
            shared.log.record(&RequestRecord {
                verb: Verb::Other,
                resource: String::new(),
                cluster,
                changed: false,
                code,
            });
            resp
        }
    }
}

fn cluster_label(c: &ClusterRef) -> String {
    match c {
        ClusterRef::Plain => String::new(),
        ClusterRef::Named(n) => n.clone(),
        ClusterRef::Wildcard => "*".to_string(),
    }
}

fn resolve(store: &mut Store, c: &ClusterRef) -> Option<String> {
    match c {
        ClusterRef::Plain => Some(PLAIN.to_string()),
        ClusterRef::Named(t) => Some(store.resolve(t)),
        ClusterRef::Wildcard => None,
    }
}

fn non_resource(shared: &Shared, cref: &ClusterRef, route: &Route) -> Result<Value, ApiError> {
    let mut store = shared.lock();
    let name = resolve(&mut store, cref).unwrap_or_else(|| "root".to_string());
    let cluster = store
        .cluster(&name)
        .ok_or_else(|| ApiError::internal("cluster vanished"))?;
    let not_found = || ApiError::no_route("discovery");
    match route {
        Route::Version => Ok(discovery::version()),
        Route::Health => Ok(Value::String("ok".into())),
        Route::OpenApi(rest) if rest == "v3" => Ok(openapi::root(cluster)),
        Route::OpenApi(rest) if rest == "v2" => Ok(openapi::v2(cluster)),
        Route::OpenApi(rest) => rest
            .strip_prefix("v3/")
            .and_then(|gv| openapi::group_version(cluster, gv))
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "NotFound",
                    "only /openapi/v2 and the OpenAPI v3 documents are served",
                )
            }),
        Route::CoreVersions => Ok(discovery::core_versions(shared.url.trim_start_matches("http://"))),
        Route::Groups => Ok(discovery::group_list(cluster)),
        Route::Group(g) => discovery::group(cluster, g).ok_or_else(not_found),
        Route::GroupVersion(g, v) => discovery::resource_list(cluster, g, v).ok_or_else(not_found),
        Route::Resource(_) | Route::Debug(_) => Err(not_found()),
    }
}

fn verb_of(req: &Req, rp: &ResourcePath) -> Result<Verb, ApiError> {
    let named = rp.name.is_some();
    Ok(match (&req.method, named) {
        (&Method::GET, true) => Verb::Get,
        (&Method::GET, false) if req.q("watch").is_some_and(|w| w == "true" || w == "1") => Verb::Watch,
        (&Method::GET, false) => Verb::List,
        (&Method::POST, _) => Verb::Create,
        (&Method::PUT, true) => Verb::Update,
        (&Method::PATCH, true) => {
            if req
                .header(header::CONTENT_TYPE)
                .starts_with("application/apply-patch")
            {
                Verb::Apply
            } else {
                Verb::Patch
            }
        }
        (&Method::DELETE, true) => Verb::Delete,
        (&Method::DELETE, false) => Verb::DeleteCollection,
        (m, _) => {
            return Err(ApiError::method_not_allowed(format!(
                "method {m} is not supported here"
            )));
        }
    })
}

async fn resource_request(
    shared: &Arc<Shared>,
    req: &Req,
    cref: &ClusterRef,
    rp: &ResourcePath,
    export: Option<ExportRef>,
) -> Response {
    let resource = qualified(&rp.group, &rp.plural);
    let mut record = RequestRecord {
        verb: Verb::Other,
        resource: resource.clone(),
        cluster: cluster_label(cref),
        changed: false,
        code: 200,
    };
    let resolved = (|| {
        let verb = verb_of(req, rp)?;
        let mut store = shared.lock();
        let filter = export.map(|e| ClusterFilter::new(e, &rp.group, &rp.plural, shared.clone()));
        if let Some(filter) = &filter {
            let bound = match cref {
                ClusterRef::Named(target) => filter.allows(&store, &apiexport::logical(&store, target)),
                _ => filter.any(&store),
            };
            if !bound {
                return Err(ApiError::no_route(&req.path));
            }
        }
        let cluster = resolve(&mut store, cref);
        let info = match &cluster {
            Some(c) => store
                .cluster(c)
                .and_then(|c| c.resource(&rp.group, &rp.version, &rp.plural)),
            None => store
                .kcp_clusters()
                .find_map(|c| c.resource(&rp.group, &rp.version, &rp.plural)),
        };
        let info = info.ok_or_else(|| ApiError::no_route(&req.path))?;
        Ok::<_, ApiError>((verb, cluster, info, filter))
    })();
    let (verb, cluster, info, filter) = match resolved {
        Ok(r) => r,
        Err(e) => {
            record.code = e.code;
            shared.log.record(&record);
            return negotiate::respond_error(req, &e);
        }
    };
    record.verb = verb;
    if let Some(c) = &cluster {
        record.cluster = c.clone();
    }
    let fault = shared
        .faults
        .evaluate(verb, &resource, &record.cluster, &req.path);
    if fault.latency > Duration::ZERO {
        tokio::time::sleep(fault.latency).await;
    }
    if let Some(e) = fault.error {
        record.code = e.code;
        shared.log.record(&record);
        return negotiate::respond_error(req, &e);
    }
    let ctx = Ctx {
        cluster,
        filter,
        info,
        rp,
        req,
    };
    if verb == Verb::Watch && ctx.info.review {
        record.code = 405;
        shared.log.record(&record);
        return negotiate::respond_error(req, &ApiError::method_not_allowed("reviews are only created"));
    }
    if verb == Verb::Watch {
        let proto = negotiate::wants_protobuf(req)
            && crate::proto::has_protobuf(&ctx.info.api_version(&rp.version), &ctx.info.kind);
        let content_type = HeaderValue::from_static(if proto {
            crate::proto::WATCH_MEDIA_TYPE
        } else {
            "application/json"
        });
        let prepared = watch::prepare(&shared.lock(), &ctx, proto);
        shared.log.record(&RequestRecord {
            code: prepared.as_ref().map(|_| 200).unwrap_or_else(|e| e.code),
            ..record
        });
        return match prepared {
            Ok(p) => {
                let opts = watch::StreamOptions {
                    bookmarks: req.q("allowWatchBookmarks") == Some("true"),
                    timeout: req
                        .q("timeoutSeconds")
                        .and_then(|t| t.parse().ok())
                        .map(Duration::from_secs),
                    drop: fault.watch_drop,
                    cancel: shared.cancel.clone(),
                };
                let mut resp = Response::new(watch::stream(p, opts));
                resp.headers_mut().insert(header::CONTENT_TYPE, content_type);
                resp
            }
            // Like the real server, an expired version is reported inside a 200 stream as an ERROR event.
            Err(e) if e.code == 410 => {
                let event = watch::encode_event(proto, "ERROR", &e.to_status());
                let mut resp = Response::new(Body::from(event));
                resp.headers_mut().insert(header::CONTENT_TYPE, content_type);
                resp
            }
            Err(e) => negotiate::respond_error(req, &e),
        };
    }
    let result = execute(&mut shared.lock(), &ctx, verb);
    match result {
        Ok(Outcome { code, body, changed }) => {
            record.code = code;
            record.changed = changed;
            shared.log.record(&record);
            negotiate::respond(req, code, &body)
        }
        Err(e) => {
            record.code = e.code;
            shared.log.record(&record);
            negotiate::respond_error(req, &e)
        }
    }
}

fn execute(store: &mut Store, ctx: &Ctx<'_>, verb: Verb) -> Result<Outcome, ApiError> {
    let content_type = ctx.req.header(header::CONTENT_TYPE);
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        // Protobuf bodies were decoded already ([`negotiate`]); CBOR is not spoken (clients fall back on 415).
        return Err(ApiError::unsupported_media(content_type));
    }
    if ctx.info.review {
        return match (verb, ctx.rp.subresource.as_deref()) {
            (Verb::Create, None) => reviews::create(store, ctx),
            _ => Err(ApiError::method_not_allowed(format!(
                "{} is not supported on {}; reviews are only created",
                verb.as_str(),
                ctx.info.plural
            ))),
        };
    }
    let sub = ctx.rp.subresource.as_deref();
    match (verb, sub) {
        (Verb::Create, Some("token"))
            if ctx.info.plural == "serviceaccounts" && ctx.info.group.is_empty() =>
        {
            patch::token_request(store, ctx)
        }
        (_, Some(s)) if s != "status" || !ctx.info.status => Err(ApiError::no_route(&ctx.req.path)),
        (Verb::Get, _) => objects::get(store, ctx),
        (Verb::List, None) => objects::list(store, ctx),
        (Verb::Create, None) => objects::create(store, ctx),
        (Verb::Update, _) => objects::update(store, ctx),
        (Verb::Patch | Verb::Apply, _) => {
            let kind = patch::PatchType::from_content_type(ctx.req.header(header::CONTENT_TYPE))?;
            patch::patch(store, ctx, kind)
        }
        (Verb::Delete, None) => objects::delete(store, ctx),
        (Verb::DeleteCollection, None) => objects::delete_collection(store, ctx),
        _ => Err(ApiError::method_not_allowed(format!(
            "{} is not supported on this path",
            verb.as_str()
        ))),
    }
}
