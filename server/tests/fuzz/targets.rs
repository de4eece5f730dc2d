//! What each fuzz target runs: the same steps ingest runs on a body (parse, map, then
//! `ingest::prepare`: sanitize, scrub, group, serialize), so a panic anywhere past the parser
//! is found too. A target returns normally for every input; errors are fine, panics are not.

use std::io::Write;

use chrono::Utc;

use bugle_server::{
    event::Event,
    grouping::rules::Rules,
    ingest::{decode_body, prepare},
    otlp::{proto, stacktrace},
    protocol::{envelope, rollbar, security, sentry},
    query,
};

/// Runs an event through what ingest does before the store, and reads the stored JSON back.
fn ingest(event: Event, protocol: &'static str, raw: &[u8]) {
    let rules = Rules::default();
    if let Ok(row) = prepare(1, &rules, event, protocol, Some(raw), Utc::now()) {
        let _ = row;
    }
}

pub fn envelope(input: &[u8]) {
    let Ok((env, _skipped)) = envelope::parse_envelope_lenient(input) else {
        return;
    };
    if let Ok(Some(event)) = sentry::event_from_envelope(&env) {
        ingest(event, "sentry", input);
    }
}

pub fn sentry_event(input: &[u8]) {
    if let Ok(event) = sentry::event_from_sentry(input) {
        ingest(event, "sentry", input);
    }
    if let Ok(payload) = sentry::payload_from_store(input) {
        let _ = payload;
    }
}

pub fn rollbar_item(input: &[u8]) {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(input) else {
        return;
    };
    let _ = rollbar::rollbar_token(&body);
    let Ok(data) = rollbar::item_data(&body) else {
        return;
    };
    if let Ok(event) = rollbar::event_from_rollbar(data) {
        ingest(event, "rollbar", input);
    }
}

pub fn native_event(input: &[u8]) {
    if let Ok(event) = bugle_server::json::parse::<Event>(input, "event") {
        ingest(event, "native", input);
    }
}

pub fn security_reports(input: &[u8]) {
    let received = security::Received {
        at: Utc::now(),
        environment: Some("production"),
        release: None,
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"),
    };
    if let Ok(reports) = security::reports_from_body(input, &received) {
        for report in reports.reports {
            ingest(report.event, "sentry", input);
        }
    }
}

/// The encodings `decode_body` takes; a decompression input's first byte picks one.
const ENCODINGS: &[&str] = &["gzip", "deflate", "br", "zstd", "identity"];

/// Bound for decompressed bodies: small, so that expansion past it is exercised.
const DECODE_LIMIT: usize = 256 * 1024;

pub fn decompress(input: &[u8]) {
    let Some((&pick, body)) = input.split_first() else {
        return;
    };
    let encoding = ENCODINGS[pick as usize % ENCODINGS.len()];
    if let Ok(out) = decode_body(Some(encoding), body, DECODE_LIMIT) {
        assert!(
            out.len() <= DECODE_LIMIT,
            "{encoding} output past the limit"
        );
    }
}

/// Seeds for `decompress`: each payload compressed with each encoding we can write here
/// (gzip, zlib and raw deflate, zstd), the encoding byte first; brotli is fed the others'
/// bytes, which its decoder must refuse cleanly.
pub fn compressed_seeds(payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
    use flate2::{write, Compression};
    let mut seeds = Vec::new();
    for payload in payloads.iter().take(8) {
        let mut gz = write::GzEncoder::new(vec![0u8], Compression::fast());
        gz.write_all(payload).unwrap();
        seeds.push(gz.finish().unwrap());
        let mut zlib = write::ZlibEncoder::new(vec![1u8], Compression::fast());
        zlib.write_all(payload).unwrap();
        seeds.push(zlib.finish().unwrap());
        let mut raw = write::DeflateEncoder::new(vec![1u8], Compression::fast());
        raw.write_all(payload).unwrap();
        seeds.push(raw.finish().unwrap());
        let mut zstd = vec![3u8];
        zstd.extend(zstd::encode_all(&payload[..], 1).unwrap());
        seeds.push(zstd);
        let mut br = vec![2u8];
        br.extend_from_slice(&seeds[seeds.len() - 4][1..]);
        seeds.push(br);
    }
    // A bomb: a megabyte of zeros compresses to about a kilobyte.
    let mut bomb = write::GzEncoder::new(vec![0u8], Compression::best());
    bomb.write_all(&vec![0u8; 1 << 20]).unwrap();
    seeds.push(bomb.finish().unwrap());
    seeds
}

pub fn otlp(input: &[u8]) {
    for enc in [proto::Encoding::Protobuf, proto::Encoding::Json] {
        if let Err(e) = proto::decode_traces(input, enc) {
            let _ = e.to_status_body(enc);
        }
        let _ = proto::decode_logs(input, enc);
    }
}

pub fn stacktrace(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let detected = stacktrace::detect(&text);
    let parsed = stacktrace::parse(&text, detected, Some("Error"), Some("message"));
    let _ = parsed.exceptions();
    for lang in [
        stacktrace::Language::Python,
        stacktrace::Language::Java,
        stacktrace::Language::Go,
    ] {
        let _ = stacktrace::parse(&text, lang, None, None);
    }
}

pub fn query_seeds() -> Vec<Vec<u8>> {
    [
        "is:unresolved level:error release:latest browser:Firefox !environment:staging \"timeout\"",
        "level:>=warning assigned:me firstSeen:>2026-11-01 timesSeen:>100",
        "level:[error,fatal] has:user.email !has:trace age:-24h lastSeen:+1w",
        "tags[level]:x url:\"*/checkout\" user.id:42 \"TypeError: x\" mail\\*relay",
        "firstSeen:2026-11-01T10:00:00+02:00 service:payments trace:4bf92f3577b34da6a3ce929d0e0e4736",
    ]
    .iter()
    .map(|q| q.as_bytes().to_vec())
    .collect()
}

/// A query parses or is refused with a span inside the input, and what parses prints back as
/// text that parses to the same query.
pub fn query(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    match query::parse(&text) {
        Ok(q) => {
            let printed = q.to_string();
            let again = query::parse(&printed)
                .unwrap_or_else(|e| panic!("{printed:?} (printed from {text:?}) fails: {e}"));
            assert_eq!(
                again, q,
                "{text:?} printed as {printed:?} reads back differently"
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
