//! OTLP/JSON field readers: the proto3 JSON mapping with OTLP's deviations, read leniently.
//!
//! * ids (`traceId`, `spanId`, `parentSpanId`) are case-insensitive hex, not base64;
//! * 64-bit (and, leniently, 32-bit) integers are numbers or decimal strings;
//! * enums are integers; their proto names (`"SPAN_KIND_SERVER"`) are accepted too, an unknown
//!   name reads as 0 (unspecified) rather than failing the request;
//! * `bytesValue` is base64 (standard or URL-safe alphabet, padding optional);
//! * `doubleValue` is a number or a string (`"NaN"`, `"Infinity"`, `"-Infinity"`, `"1.5"`);
//! * `null` anywhere means the field's default.
//!
//! Nesting is bounded by serde_json's recursion limit (128 levels), which is kept.

use std::fmt;

use base64::Engine as _;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// `null` reads as `T::default()` (for strings and repeated fields).
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Shortens a value quoted in an error message.
pub(super) fn quote(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}...", &s[..i]),
        None => format!("{s:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// ids

struct HexIdVisitor;

impl<'de> Visitor<'de> for HexIdVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a hex string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Vec<u8>, E> {
        hex::decode(s).map_err(|_| {
            let b64 = base64::engine::general_purpose::STANDARD.decode(s);
            let hint = if matches!(b64, Ok(ref b) if b.len() == 16 || b.len() == 8) {
                " (looks like base64; OTLP/JSON ids are hex)"
            } else {
                ""
            };
            E::custom(format_args!("not hex: {}{hint}", quote(s)))
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<u8>, E> {
        Ok(Vec::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<u8>, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_str(self)
    }
}

/// A trace or span id: hex (either case), empty or `null` for none. Length is not checked here
/// (the `*_hex()` accessors return `None` for a wrong length), so both encodings behave alike.
pub(super) fn hex_id<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    d.deserialize_option(HexIdVisitor)
}

// ---------------------------------------------------------------------------------------------
// numbers

/// A JSON number or numeric string, before its range is checked.
enum Num {
    Int(i128),
    Float(f64),
}

struct NumVisitor;

impl<'de> Visitor<'de> for NumVisitor {
    type Value = Option<Num>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or a numeric string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Num::Int(v.into())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Num::Int(v.into())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Num::Float(v)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let t = s.trim();
        if let Ok(i) = t.parse::<i128>() {
            return Ok(Some(Num::Int(i)));
        }
        // Rust's float parser also takes "NaN", "inf" and "Infinity" in any case.
        match t.parse::<f64>() {
            Ok(f) => Ok(Some(Num::Float(f))),
            Err(_) => Err(E::custom(format_args!("not a number: {}", quote(s)))),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn read_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Num>, D::Error> {
    d.deserialize_option(NumVisitor)
}

/// An integer in `[min, max]`; a float is accepted when it is integral (`1e3`, `5.0`).
fn integer<E: de::Error>(n: Num, min: i128, max: i128, ty: &str) -> Result<i128, E> {
    let i = match n {
        Num::Int(i) => i,
        Num::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1.9e19 => f as i128,
        Num::Float(f) => return Err(E::custom(format_args!("not an integer: {f}"))),
    };
    if (min..=max).contains(&i) {
        Ok(i)
    } else {
        Err(E::custom(format_args!("{i} is out of range for {ty}")))
    }
}

/// `uint64` / `fixed64` (times in unix nanoseconds).
pub(super) fn u64_any<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match read_num(d)? {
        None => Ok(0),
        Some(n) => integer(n, 0, u64::MAX.into(), "uint64").map(|i| i as u64),
    }
}

/// `int64`.
pub(super) fn i64_any<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match read_num(d)? {
        None => Ok(0),
        Some(n) => integer(n, i64::MIN.into(), i64::MAX.into(), "int64").map(|i| i as i64),
    }
}

/// `uint32` / `fixed32` (counts, flags).
pub(super) fn u32_any<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match read_num(d)? {
        None => Ok(0),
        Some(n) => integer(n, 0, u32::MAX.into(), "uint32").map(|i| i as u32),
    }
}

/// `double`.
pub(super) fn f64_any<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(match read_num(d)? {
        None => 0.0,
        Some(Num::Int(i)) => i as f64,
        Some(Num::Float(f)) => f,
    })
}

// ---------------------------------------------------------------------------------------------
// enums

/// An enum: an integer (any `int32`, kept even if not a known variant, as protobuf does), a
/// numeric string, or a proto value name looked up in `names` (unknown names read as 0).
struct EnumVisitor {
    names: &'static [&'static str],
}

impl<'de> Visitor<'de> for EnumVisitor {
    type Value = i32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an enum number or name")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
        integer(
            Num::Int(v.into()),
            i32::MIN.into(),
            i32::MAX.into(),
            "an enum",
        )
        .map(|i| i as i32)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
        integer(
            Num::Int(v.into()),
            i32::MIN.into(),
            i32::MAX.into(),
            "an enum",
        )
        .map(|i| i as i32)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i32, E> {
        integer(Num::Float(v), i32::MIN.into(), i32::MAX.into(), "an enum").map(|i| i as i32)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<i32, E> {
        if let Ok(i) = s.trim().parse::<i32>() {
            return Ok(i);
        }
        Ok(self
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s.trim()))
            .map_or(0, |i| i as i32))
    }

    fn visit_unit<E: de::Error>(self) -> Result<i32, E> {
        Ok(0)
    }

    fn visit_none<E: de::Error>(self) -> Result<i32, E> {
        Ok(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<i32, D::Error> {
        d.deserialize_any(self)
    }
}

/// Proto value names, indexed by number (all three enums are dense from 0).
pub(super) const SPAN_KIND_NAMES: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

pub(super) const STATUS_CODE_NAMES: &[&str] =
    &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

pub(super) const SEVERITY_NUMBER_NAMES: &[&str] = &[
    "SEVERITY_NUMBER_UNSPECIFIED",
    "SEVERITY_NUMBER_TRACE",
    "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",
    "SEVERITY_NUMBER_TRACE4",
    "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",
    "SEVERITY_NUMBER_DEBUG3",
    "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",
    "SEVERITY_NUMBER_INFO2",
    "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",
    "SEVERITY_NUMBER_WARN",
    "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",
    "SEVERITY_NUMBER_WARN4",
    "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",
    "SEVERITY_NUMBER_ERROR3",
    "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",
    "SEVERITY_NUMBER_FATAL2",
    "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
];

pub(super) fn span_kind<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    d.deserialize_option(EnumVisitor {
        names: SPAN_KIND_NAMES,
    })
}

pub(super) fn status_code<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    d.deserialize_option(EnumVisitor {
        names: STATUS_CODE_NAMES,
    })
}

pub(super) fn severity_number<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    d.deserialize_option(EnumVisitor {
        names: SEVERITY_NUMBER_NAMES,
    })
}
