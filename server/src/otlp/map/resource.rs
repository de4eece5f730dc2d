//! What a resource says about the process that sent a batch, read once per resource and put
//! on each event from it: service, release, environment, host, pid, runtime, OS, SDK.

use serde_json::{json, Map, Value};

use super::bounded_attributes;
use crate::event::{Event, Sdk, Server};
use crate::otlp::proto::{AttributesExt, KeyValue};
use crate::otlp::stacktrace::Language;

/// Resource attributes read into event fields; the others go to `extra.otel.resource`.
const READ: &[&str] = &[
    "service.name",
    "service.version",
    "deployment.environment.name",
    "deployment.environment",
    "host.name",
    "process.pid",
    "process.runtime.name",
    "process.runtime.version",
    "process.runtime.description",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "os.type",
    "os.version",
];

/// A resource read into the event fields it fills.
#[derive(Debug, Clone)]
pub struct ResourceInfo {
    pub service: Option<String>,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub host: Option<String>,
    pub pid: Option<u32>,
    pub sdk_language: Option<String>,
    /// The language its stack traces are parsed as first.
    pub language: Language,
    runtime: Option<Value>,
    os: Option<Value>,
    sdk: Option<Sdk>,
    /// The other resource attributes, bounded.
    others: Map<String, Value>,
}

fn text(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .attr_string(key)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl ResourceInfo {
    pub fn read(attrs: &[KeyValue]) -> ResourceInfo {
        let runtime_name = text(attrs, "process.runtime.name");
        let sdk_language = text(attrs, "telemetry.sdk.language");
        let language = Language::from_hint(sdk_language.as_deref(), runtime_name.as_deref());
        let runtime = runtime_name.as_ref().map(|name| {
            let mut ctx = json!({ "name": name });
            for (key, field) in [
                ("process.runtime.version", "version"),
                ("process.runtime.description", "raw_description"),
            ] {
                if let Some(v) = text(attrs, key) {
                    ctx[field] = Value::String(v);
                }
            }
            ctx
        });
        let os = text(attrs, "os.type").map(|name| match text(attrs, "os.version") {
            Some(version) => json!({ "name": name, "version": version }),
            None => json!({ "name": name }),
        });
        let sdk_name = text(attrs, "telemetry.sdk.name");
        let sdk = sdk_name.map(|name| Sdk {
            // `opentelemetry` alone says little: the language tells the SDKs apart.
            name: Some(match &sdk_language {
                Some(lang) => format!("{name}.{lang}"),
                None => name,
            }),
            version: text(attrs, "telemetry.sdk.version"),
        });
        let rest: Vec<&KeyValue> = attrs
            .iter()
            .filter(|kv| !READ.contains(&kv.key.as_str()))
            .collect();
        ResourceInfo {
            service: text(attrs, "service.name"),
            release: text(attrs, "service.version"),
            environment: text(attrs, "deployment.environment.name")
                .or_else(|| text(attrs, "deployment.environment")),
            host: text(attrs, "host.name"),
            pid: attrs
                .attr_i64("process.pid")
                .and_then(|p| u32::try_from(p).ok()),
            sdk_language,
            language,
            runtime,
            os,
            sdk,
            others: bounded_attributes(rest),
        }
    }

    /// Fills the event's fields from the resource; what the event already has wins.
    pub fn apply(&self, ev: &mut Event, otel: &mut Map<String, Value>) {
        if let Some(service) = &self.service {
            ev.tags.insert("service".into(), service.clone());
        }
        ev.release = ev.release.take().or_else(|| self.release.clone());
        ev.environment = ev.environment.take().or_else(|| self.environment.clone());
        if self.host.is_some() || self.pid.is_some() {
            ev.server = Some(Server {
                host: self.host.clone(),
                pid: self.pid,
                ..Server::default()
            });
        }
        if let Some(runtime) = &self.runtime {
            ev.contexts.insert("runtime".into(), runtime.clone());
        }
        if let Some(os) = &self.os {
            ev.contexts.insert("os".into(), os.clone());
        }
        ev.sdk = self.sdk.clone();
        if ev.language.is_none() {
            ev.language = self
                .language
                .as_str()
                .map(str::to_owned)
                .or_else(|| self.sdk_language.clone());
        }
        if !self.others.is_empty() {
            otel.insert("resource".into(), Value::Object(self.others.clone()));
        }
    }
}
