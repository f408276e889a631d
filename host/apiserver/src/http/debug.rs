//! `/debug/requests` (counters; `DELETE` or `POST .../reset` zeroes them) and `/debug/faults` (list, add with
//! `POST` of a [`FaultRule`], clear with `DELETE`, remove one with `DELETE /debug/faults/<id>`).

use axum::response::Response;
use http::Method;
use serde_json::json;

use super::{Req, error_response, json_response};
use crate::debug::FaultRule;
use crate::server::Shared;
use crate::status::ApiError;

pub(crate) fn handle(shared: &Shared, req: &Req, rest: &str) -> Response {
    let to_json = |v: serde_json::Result<serde_json::Value>| match v {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&ApiError::internal(e.to_string())),
    };
    match (&req.method, rest) {
        (&Method::GET, "requests") => to_json(serde_json::to_value(shared.log.snapshot())),
        (&Method::DELETE, "requests") | (&Method::POST, "requests/reset") => {
            shared.log.reset();
            json_response(200, &json!({"reset": true}))
        }
        (&Method::GET, "faults") => to_json(serde_json::to_value(shared.faults.rules())),
        (&Method::POST, "faults") => match serde_json::from_slice::<FaultRule>(&req.body) {
            Ok(rule) => {
                let id = shared.faults.add(rule);
                json_response(201, &json!({"id": id}))
            }
            Err(e) => error_response(&ApiError::bad_request(format!("invalid fault rule: {e}"))),
        },
        (&Method::DELETE, "faults") => {
            shared.faults.clear();
            json_response(200, &json!({"cleared": true}))
        }
        (&Method::DELETE, r) if r.starts_with("faults/") => match r["faults/".len()..].parse::<u64>() {
            Ok(id) if shared.faults.remove(id) => json_response(200, &json!({"removed": id})),
            _ => error_response(&ApiError::new(404, "NotFound", format!("no fault rule {r}"))),
        },
        _ => error_response(&ApiError::no_route(&req.path)),
    }
}
