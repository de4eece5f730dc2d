//! OTLP/JSON `AnyValue`: `{"stringValue": "x"}`, `{"intValue": "5"}`,
//! `{"arrayValue": {"values": [...]}}`, ... (the field readers it uses are in `json`).

use std::fmt;

use base64::Engine as _;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::json::{f64_any, i64_any, nullable, quote};
use super::types::{AnyValue, AnyValueKind, ArrayValue, KeyValueList};

/// The keys of an AnyValue object; anything else is ignored.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum AnyValueField {
    #[serde(alias = "string_value")]
    StringValue,
    #[serde(alias = "bool_value")]
    BoolValue,
    #[serde(alias = "int_value")]
    IntValue,
    #[serde(alias = "double_value")]
    DoubleValue,
    #[serde(alias = "array_value")]
    ArrayValue,
    #[serde(alias = "kvlist_value")]
    KvlistValue,
    #[serde(alias = "bytes_value")]
    BytesValue,
    #[serde(other)]
    Other,
}

macro_rules! with_fn {
    ($name:ident, $ty:ty, $f:path) => {
        struct $name($ty);
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $f(d).map($name)
            }
        }
    };
}

with_fn!(I64Any, i64, i64_any);
with_fn!(F64Any, f64, f64_any);
with_fn!(Base64Bytes, Vec<u8>, base64_bytes);

fn base64_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s: String = nullable(d)?;
    let t = s.trim_end_matches('=');
    let engine = if t.contains(['-', '_']) {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    engine
        .decode(t)
        .map_err(|_| de::Error::custom(format_args!("not base64: {}", quote(&s))))
}

struct AnyValueVisitor;

impl<'de> Visitor<'de> for AnyValueVisitor {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AnyValue object such as {\"stringValue\": \"...\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValue, A::Error> {
        // As in the binary encoding, the last member of the oneof wins; a `null` member is skipped.
        let mut value = None;
        while let Some(field) = map.next_key::<AnyValueField>()? {
            let v = match field {
                AnyValueField::StringValue => map
                    .next_value::<Option<String>>()?
                    .map(AnyValueKind::String),
                AnyValueField::BoolValue => {
                    map.next_value::<Option<bool>>()?.map(AnyValueKind::Bool)
                }
                AnyValueField::IntValue => map
                    .next_value::<Option<I64Any>>()?
                    .map(|v| AnyValueKind::Int(v.0)),
                AnyValueField::DoubleValue => map
                    .next_value::<Option<F64Any>>()?
                    .map(|v| AnyValueKind::Double(v.0)),
                AnyValueField::ArrayValue => map
                    .next_value::<Option<ArrayValue>>()?
                    .map(AnyValueKind::Array),
                AnyValueField::KvlistValue => map
                    .next_value::<Option<KeyValueList>>()?
                    .map(AnyValueKind::KvList),
                AnyValueField::BytesValue => map
                    .next_value::<Option<Base64Bytes>>()?
                    .map(|v| AnyValueKind::Bytes(v.0)),
                AnyValueField::Other => {
                    map.next_value::<IgnoredAny>()?;
                    None
                }
            };
            if v.is_some() {
                value = v;
            }
        }
        Ok(AnyValue { value })
    }
}

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AnyValueVisitor)
    }
}
