//! What a minidump says without symbols: the crash's exception (a signal or Windows/macOS code
//! and its address), the OS and the CPU. Native SDKs (sentry-native, Crashpad, Breakpad) send a
//! crash as a minidump attachment, often with an event that has no exception at all.
//!
//! Bugle does not symbolicate: stacks would need the app's debug files. The exception is read
//! from the minidump's header and streams (little-endian, as every minidump writer emits):
//! `MDMP` signature, version, stream count and directory; stream 6 is the exception, stream 7
//! the system info.

use serde_json::{json, Map, Value};

use crate::event::{Exception, Mechanism};

const SIGNATURE: u32 = 0x504d_444d; // "MDMP"
const EXCEPTION_STREAM: u32 = 6;
const SYSTEM_INFO_STREAM: u32 = 7;

/// What was read from a minidump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// `SIGSEGV`, `EXCEPTION_ACCESS_VIOLATION`, `EXC_BAD_ACCESS`, or `0x…` when unknown.
    pub kind: String,
    pub code: u32,
    pub address: u64,
    pub thread_id: u32,
    pub os: Option<&'static str>,
    pub os_version: Option<String>,
    pub arch: Option<&'static str>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Whether the bytes start like a minidump.
pub fn is_minidump(bytes: &[u8]) -> bool {
    u32_at(bytes, 0) == Some(SIGNATURE)
}

/// The crash a minidump records; `None` when it is not a minidump or has no exception stream.
pub fn read(bytes: &[u8]) -> Option<Crash> {
    if !is_minidump(bytes) {
        return None;
    }
    let streams = u32_at(bytes, 8)? as usize;
    let directory = u32_at(bytes, 12)? as usize;
    let mut exception = None;
    let mut system = None;
    // A directory entry: stream type, data size, offset (12 bytes). Bounded by the file size.
    for i in 0..streams.min(bytes.len() / 12) {
        let entry = directory.checked_add(i * 12)?;
        let (ty, offset) = (u32_at(bytes, entry)?, u32_at(bytes, entry + 8)? as usize);
        match ty {
            EXCEPTION_STREAM => exception = Some(offset),
            SYSTEM_INFO_STREAM => system = Some(offset),
            _ => {}
        }
    }
    let at = exception?;
    // MINIDUMP_EXCEPTION_STREAM: thread id, alignment, then MINIDUMP_EXCEPTION: code, flags,
    // record (u64), address (u64).
    let thread_id = u32_at(bytes, at)?;
    let code = u32_at(bytes, at + 8)?;
    let address = u64_at(bytes, at + 24)?;
    let (mut os, mut os_version, mut arch) = (None, None, None);
    if let Some(s) = system {
        arch = u16_at(bytes, s).and_then(arch_name);
        let platform = u32_at(bytes, s + 20);
        os = platform.and_then(os_name);
        if let (Some(major), Some(minor), Some(build)) = (
            u32_at(bytes, s + 8),
            u32_at(bytes, s + 12),
            u32_at(bytes, s + 16),
        ) {
            os_version = Some(format!("{major}.{minor}.{build}"));
        }
    }
    Some(Crash {
        kind: code_name(code, os).unwrap_or_else(|| format!("{code:#010x}")),
        code,
        address,
        thread_id,
        os,
        os_version,
        arch,
    })
}

fn arch_name(code: u16) -> Option<&'static str> {
    Some(match code {
        0 => "x86",
        5 => "arm",
        9 => "x86_64",
        12 | 0x8003 => "arm64",
        _ => return None,
    })
}

fn os_name(platform: u32) -> Option<&'static str> {
    Some(match platform {
        0..=3 => "Windows",
        0x8101 => "macOS",
        0x8102 => "iOS",
        0x8201 => "Linux",
        0x8202 => "Solaris",
        0x8203 => "Android",
        0x8206 => "Fuchsia",
        _ => return None,
    })
}

/// The usual name of an exception code: signals on Linux and Android, Windows' status codes,
/// Mach exceptions on Apple systems.
fn code_name(code: u32, os: Option<&str>) -> Option<String> {
    let name = match (os, code) {
        (Some("Windows"), 0xC000_0005) => "EXCEPTION_ACCESS_VIOLATION",
        (Some("Windows"), 0xC000_00FD) => "EXCEPTION_STACK_OVERFLOW",
        (Some("Windows"), 0xC000_0094) => "EXCEPTION_INT_DIVIDE_BY_ZERO",
        (Some("Windows"), 0xC000_001D) => "EXCEPTION_ILLEGAL_INSTRUCTION",
        (Some("Windows"), 0xC000_0409) => "STATUS_STACK_BUFFER_OVERRUN",
        (Some("Windows"), 0x8000_0003) => "EXCEPTION_BREAKPOINT",
        (Some("Windows"), 0xE06D_7363) => "Unhandled C++ exception",
        (Some("macOS" | "iOS"), 1) => "EXC_BAD_ACCESS",
        (Some("macOS" | "iOS"), 2) => "EXC_BAD_INSTRUCTION",
        (Some("macOS" | "iOS"), 3) => "EXC_ARITHMETIC",
        (Some("macOS" | "iOS"), 6) => "EXC_BREAKPOINT",
        (Some("macOS" | "iOS"), 10) => "EXC_CRASH",
        (_, 4) => "SIGILL",
        (_, 5) => "SIGTRAP",
        (_, 6) => "SIGABRT",
        (_, 7) => "SIGBUS",
        (_, 8) => "SIGFPE",
        (_, 11) => "SIGSEGV",
        _ => return None,
    };
    Some(name.to_owned())
}

impl Crash {
    /// The exception the event shows: the crash's kind, at its address.
    pub fn exception(&self) -> Exception {
        let mut other = Map::new();
        other.insert(
            "data".into(),
            json!({"minidump": true, "symbolicated": false}),
        );
        Exception {
            ty: self.kind.clone(),
            value: Some(format!(
                "Fatal Error: {} at {:#x} (native crash from a minidump, not symbolicated)",
                self.kind, self.address
            )),
            mechanism: Some(Mechanism {
                ty: "minidump".into(),
                handled: Some(false),
                other,
            }),
            ..Exception::default()
        }
    }

    /// `os` and `device` contexts, for an event that has none.
    pub fn contexts(&self) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        if let Some(os) = self.os {
            out.push((
                "os",
                json!({"type": "os", "name": os, "version": self.os_version}),
            ));
        }
        if let Some(arch) = self.arch {
            out.push(("device", json!({"type": "device", "arch": arch})));
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal minidump: header, a directory of two streams, exception and system info.
    pub(crate) fn minidump(code: u32, address: u64, platform: u32, arch: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(SIGNATURE.to_le_bytes());
        b.extend(0xa793u32.to_le_bytes()); // version
        b.extend(2u32.to_le_bytes()); // streams
        b.extend(32u32.to_le_bytes()); // directory offset
        b.extend([0u8; 16]); // checksum, time, flags
        let (exc_at, sys_at) = (56u32, 56u32 + 168);
        for (ty, size, at) in [
            (EXCEPTION_STREAM, 168u32, exc_at),
            (SYSTEM_INFO_STREAM, 56, sys_at),
        ] {
            b.extend(ty.to_le_bytes());
            b.extend(size.to_le_bytes());
            b.extend(at.to_le_bytes());
        }
        let mut exc = vec![0u8; 168];
        exc[0..4].copy_from_slice(&7u32.to_le_bytes());
        exc[8..12].copy_from_slice(&code.to_le_bytes());
        exc[24..32].copy_from_slice(&address.to_le_bytes());
        b.extend(exc);
        let mut sys = vec![0u8; 56];
        sys[0..2].copy_from_slice(&arch.to_le_bytes());
        sys[8..12].copy_from_slice(&10u32.to_le_bytes());
        sys[16..20].copy_from_slice(&19045u32.to_le_bytes());
        sys[20..24].copy_from_slice(&platform.to_le_bytes());
        b.extend(sys);
        b
    }

    #[test]
    fn the_exception_os_and_cpu_are_read() {
        let crash = read(&minidump(0xC000_0005, 0x10, 2, 9)).unwrap();
        assert_eq!(crash.kind, "EXCEPTION_ACCESS_VIOLATION");
        assert_eq!((crash.address, crash.thread_id), (0x10, 7));
        assert_eq!((crash.os, crash.arch), (Some("Windows"), Some("x86_64")));
        assert_eq!(crash.os_version.as_deref(), Some("10.0.19045"));
        let linux = read(&minidump(11, 0, 0x8201, 12)).unwrap();
        assert_eq!((linux.kind.as_str(), linux.os), ("SIGSEGV", Some("Linux")));
        let exc = linux.exception();
        assert!(exc.value.unwrap().contains("not symbolicated"));
        assert_eq!(exc.mechanism.unwrap().handled, Some(false));
    }

    #[test]
    fn anything_else_is_not_a_crash_and_never_panics() {
        assert_eq!(read(b"not a minidump"), None);
        let mut cut = minidump(11, 0, 0x8201, 12);
        for len in 0..cut.len() {
            let _ = read(&cut[..len]);
        }
        cut[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(read(&cut), None);
        assert!(is_minidump(&minidump(6, 0, 0x8101, 12)));
    }
}
