//! The way in: body limits, bounded decompression, project-key auth, and the pipeline every
//! protocol shares once it has an [`Event`]: validate, finalize, group, compress, commit.
//!
//! Each protocol module only parses its wire format into an `Event`.

pub mod envelope;
mod keys;
pub mod native;
pub mod otlp;
pub mod rollbar;
pub mod rollbar_deploy;
pub mod security;
pub mod sentry;
pub mod user_feedback;

pub use keys::{Admitted, KeyCache, RateWindow};

use std::borrow::Cow;
use std::io::Read;

use actix_web::http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use actix_web::{web, HttpRequest};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use crate::error::ApiError;
use crate::event::Event;
use crate::grouping::rules::Rules;
use crate::grouping::{self, Grouping};
use crate::store::{Committed, NewOccurrence};

/// Reads the request body, refusing more than `limit` bytes as early as it can tell.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let too_large = || ApiError::TooLarge(format!("request body exceeds {limit} bytes"));
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(8192).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Undoes `Content-Encoding` (gzip, deflate, br, zstd), never producing more than `limit`
/// bytes: a small body that expands past it is a 413, not an out-of-memory.
pub fn decode_body<'a>(
    encoding: Option<&str>,
    body: &'a [u8],
    limit: usize,
) -> Result<Cow<'a, [u8]>, ApiError> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
    let reader: Box<dyn Read + '_> = match encoding.as_deref() {
        None | Some("" | "identity") => {
            if body.len() > limit {
                return Err(ApiError::TooLarge(format!("event exceeds {limit} bytes")));
            }
            return Ok(Cow::Borrowed(body));
        }
        Some("gzip" | "x-gzip") => Box::new(flate2::read::MultiGzDecoder::new(body)),
        // HTTP's "deflate" is zlib-wrapped, but some clients send a raw deflate stream.
        Some("deflate") if body.first().is_some_and(|b| b & 0x0f == 8) => {
            Box::new(flate2::read::ZlibDecoder::new(body))
        }
        Some("deflate") => Box::new(flate2::read::DeflateDecoder::new(body)),
        Some("br") => Box::new(brotli_decompressor::Decompressor::new(body, 4096)),
        Some("zstd") => Box::new(
            zstd::stream::read::Decoder::new(body)
                .map_err(|e| ApiError::BadRequest(format!("invalid zstd body: {e}")))?,
        ),
        Some(other) => {
            return Err(ApiError::UnsupportedEncoding(format!(
                "unsupported Content-Encoding {other:?} (expected gzip, deflate, br or zstd)"
            )))
        }
    };
    let mut out = Vec::with_capacity((body.len() * 4).min(limit));
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "cannot decode {} body: {e}",
                encoding.as_deref().unwrap_or("")
            ))
        })?;
    if out.len() > limit {
        return Err(ApiError::TooLarge(format!(
            "event exceeds {limit} bytes once decompressed"
        )));
    }
    Ok(Cow::Owned(out))
}

pub fn content_encoding(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
}

/// A protocol mapper's refusal as an HTTP error: undecodable is 400, rule-breaking 422.
pub fn map_error(e: crate::protocol::MapError) -> ApiError {
    match e.status() {
        400 => ApiError::BadRequest(e.client_message()),
        _ => ApiError::Unprocessable(e.client_message()),
    }
}

/// The metrics label of an ingest result: accepted, duplicate, or why it was refused.
pub fn outcome(result: Result<&Committed, &ApiError>) -> String {
    match result {
        Ok(c) if c.duplicate => "duplicate".into(),
        Ok(_) => "accepted".into(),
        Err(e) => e.reason().into(),
    }
}

/// Longest stored text for indexed and listed columns.
const MAX_TEXT: usize = 255;

/// Text safe for both backends (PostgreSQL refuses NUL in TEXT), bounded in length.
fn column_text(s: &str, max: usize) -> String {
    s.chars().filter(|&c| c != '\0').take(max).collect()
}

fn optional_text(s: Option<&str>) -> Option<String> {
    s.map(|s| column_text(s, MAX_TEXT))
        .filter(|s| !s.is_empty())
}

/// zstd at level 1 with one context per thread. Level 3 took 9% of the server's CPU under load
/// for 2% smaller rows (3,118 vs 3,187 bytes per 14.6 KB event); a context per event cost more
/// than compressing (its tables are allocated and zeroed each time).
fn compress(bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Compressor::new(1).map_err(|e| ApiError::Internal(e.into()))?);
        }
        slot.as_mut()
            .expect("just made")
            .compress(bytes)
            .map_err(|e| ApiError::Internal(e.into()))
    })
}

/// The event's JSON, compressed. Written into a buffer kept per thread: a fresh `Vec` grew by
/// doubling to the event's size (~15 KB), copying it at each step.
fn compress_json(event: &Event) -> Result<Vec<u8>, ApiError> {
    thread_local! {
        static JSON: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    JSON.with(|cell| {
        let mut json = cell.borrow_mut();
        json.clear();
        let compressed = match serde_json::to_writer(&mut *json, event) {
            Ok(()) => compress(&json),
            Err(e) => Err(ApiError::Internal(e.into())),
        };
        // One huge event must not keep its buffer for the thread's life.
        if json.capacity() > 1 << 20 {
            *json = Vec::new();
        }
        compressed
    })
}

/// The values search and the issue page's breakdowns index per issue beside the facets:
/// trace id, user, URL and the first tags (see `store::search`).
/// `trace` is the occurrence's trace id as stored ([`crate::event::trace_key`]), so `trace:`
/// finds it however the SDK wrote it.
fn searchable_values(event: &Event, trace: Option<&str>) -> Vec<(String, String)> {
    use crate::store::search::{tag_facet, MAX_TAGS_PER_EVENT};
    let mut out = Vec::new();
    let person = event.person.as_ref();
    for (facet, value) in [
        ("trace", trace),
        ("user.id", person.and_then(|p| p.id.as_deref())),
        ("user.email", person.and_then(|p| p.email.as_deref())),
        ("url", event.request.as_ref().and_then(|r| r.url.as_deref())),
    ] {
        if let Some(value) = optional_text(value) {
            out.push((facet.to_owned(), value));
        }
    }
    let tags = event.tags.iter().filter(|(k, _)| !k.is_empty());
    for (key, value) in tags.take(MAX_TAGS_PER_EVENT) {
        if let Some(value) = optional_text(Some(value)) {
            out.push((tag_facet(&column_text(key, 200)), value));
        }
    }
    out
}

/// Turns a parsed event into a row ready to commit: checks it, fills server-made fields,
/// groups it, compresses it. `raw` is the body as received when it is not native JSON.
pub fn prepare(
    project_id: i64,
    rules: &Rules,
    mut event: Event,
    protocol: &'static str,
    raw: Option<&[u8]>,
    received_at: DateTime<Utc>,
) -> Result<NewOccurrence, ApiError> {
    // Every protocol: a list too long to be useful is cut and noted, not refused.
    crate::bounds::bound_lists(&mut event);
    // The native API is ours and strict (a 422 says what to fix); the SDK protocols are
    // lenient as their servers are: anything that is an event is stored, mended and noted.
    if protocol == "native" {
        event
            .validate()
            .map_err(|e| ApiError::Unprocessable(format!("invalid event: {e}")))?;
    } else {
        event.sanitize();
    }
    event.finalize(received_at);
    crate::scrub::scrub(&mut event);
    let g = grouping::group(&event, rules);
    let grouping = Grouping {
        hashes: g.hashes,
        components: g.components.iter().map(|c| column_text(c, 1024)).collect(),
        title: column_text(&g.title, MAX_TEXT),
        culprit: optional_text(g.culprit.as_deref()),
        call_path: optional_text(g.call_path.as_deref()),
    };
    let trace_id = event
        .trace
        .as_ref()
        .and_then(|t| crate::event::trace_key(t.trace_id.as_deref()?));
    Ok(NewOccurrence {
        project_id,
        uuid: event.uuid.expect("finalize sets the uuid"),
        timestamp: event
            .timestamp
            .expect("finalize sets the timestamp")
            .timestamp_millis(),
        received_at: received_at.timestamp_millis(),
        level: event.level(),
        environment: optional_text(event.environment.as_deref()),
        release: optional_text(event.release.as_deref()),
        host: optional_text(event.host()),
        os: optional_text(event.context_name("os").as_deref()),
        browser: optional_text(event.context_name("browser").as_deref()),
        tags: searchable_values(&event, trace_id.as_deref()),
        trace_id,
        protocol,
        grouping,
        event: compress_json(&event)?,
        raw: raw.map(compress).transpose()?,
        attachments: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn a_small_gzip_body_that_expands_past_the_limit_is_too_large() {
        let bomb = gzip(&vec![b'a'; 10 * 1024 * 1024]);
        assert!(bomb.len() < 20 * 1024);
        let err = decode_body(Some("gzip"), &bomb, 1024 * 1024).unwrap_err();
        assert!(matches!(err, ApiError::TooLarge(_)), "{err:?}");
    }

    #[test]
    fn every_supported_encoding_decodes() {
        let data = br#"{"message":"hello"}"#;
        assert_eq!(
            decode_body(Some("gzip"), &gzip(data), 100)
                .unwrap()
                .as_ref(),
            data
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        assert_eq!(
            decode_body(Some("deflate"), &z.finish().unwrap(), 100)
                .unwrap()
                .as_ref(),
            data
        );
        let zs = zstd::bulk::compress(data, 3).unwrap();
        assert_eq!(decode_body(Some("zstd"), &zs, 100).unwrap().as_ref(), data);
        assert_eq!(decode_body(None, data, 100).unwrap().as_ref(), data);
        assert!(matches!(
            decode_body(Some("lzma"), data, 100),
            Err(ApiError::UnsupportedEncoding(_))
        ));
        assert!(matches!(
            decode_body(Some("gzip"), b"not gzip", 100),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn nul_bytes_never_reach_text_columns() {
        assert_eq!(column_text("a\0b", 10), "ab");
        assert_eq!(column_text("abcdef", 3), "abc");
    }
}
