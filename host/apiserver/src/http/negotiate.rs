//! Content negotiation: protobuf request bodies become JSON before anything reads them, and responses are
//! protobuf when the client prefers it and the kind has a protobuf form (the built-in kinds), JSON otherwise.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;

use super::{Req, json_response};
use crate::proto;
use crate::status::ApiError;

/// Rewrites a protobuf request body as JSON (and its `Content-Type`), so every handler reads JSON.
///
/// # Errors
///
/// 415 for a kind without a protobuf form (custom resources), 400 for a malformed body.
pub fn decode_request(req: &mut Req) -> Result<(), ApiError> {
    if !proto::is_protobuf(req.header(header::CONTENT_TYPE)) {
        return Ok(());
    }
    let obj = proto::decode_object(&req.body).map_err(|e| {
        if e.contains("no protobuf form") {
            ApiError::unsupported_media(proto::MEDIA_TYPE)
        } else {
            ApiError::bad_request(format!("the protobuf body could not be decoded: {e}"))
        }
    })?;
    req.body = Bytes::from(obj.to_string());
    req.headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(())
}

/// Whether the client asked for protobuf first.
pub fn wants_protobuf(req: &Req) -> bool {
    proto::prefers_protobuf(req.header(header::ACCEPT))
}

/// A response with `body` in the encoding the client prefers.
pub fn respond(req: &Req, code: u16, body: &Value) -> Response {
    if wants_protobuf(req)
        && let Some(bytes) = proto::encode_object(body)
    {
        let mut resp = Response::new(Body::from(bytes));
        *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(proto::MEDIA_TYPE));
        return resp;
    }
    json_response(code, body)
}

/// An error response in the encoding the client prefers.
pub fn respond_error(req: &Req, e: &ApiError) -> Response {
    let mut resp = respond(req, e.code, &e.to_status());
    if let Some(s) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}
