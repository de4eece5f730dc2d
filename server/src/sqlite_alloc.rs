//! SQLite's memory from the process's allocator (mimalloc, `main.rs`) instead of the C
//! library's malloc.
//!
//! glibc's malloc gives each thread that allocates an arena of its own and keeps in it what was
//! freed there. SQLite allocates on a dozen threads (sqlx's worker thread per pool connection,
//! the ingest writer, the checkpointer): in a soak (debug build, 500 events/s, 6 minutes) eleven
//! such arenas held 60-80 MB of RSS while SQLite itself had 20-30 MB allocated
//! (`bugle_sqlite_memory_bytes`), and they grew with the database. Through the Rust allocator
//! SQLite's blocks live in mimalloc's heaps beside everything else.

use std::alloc::{alloc, dealloc, realloc, Layout};
use std::ffi::{c_int, c_void};
use std::ptr::null_mut;

use rusqlite::ffi;

/// Bytes before each block, holding its size (SQLite asks for it back, and freeing needs it);
/// 16 keeps the blocks as aligned as malloc's.
const HEADER: usize = 16;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, HEADER).ok()
}

/// SAFETY (all below): SQLite hands back only pointers these functions returned, each once.
unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    let Some(layout) = usize::try_from(n).ok().and_then(layout) else {
        return null_mut();
    };
    // SAFETY: the layout is never zero-sized (HEADER > 0).
    unsafe {
        let base = alloc(layout);
        if base.is_null() {
            return null_mut();
        }
        base.cast::<usize>().write(layout.size() - HEADER);
        base.add(HEADER).cast()
    }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from x_malloc or x_realloc: its header holds the size allocated.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let size = base.cast::<usize>().read();
        dealloc(
            base,
            Layout::from_size_align_unchecked(size + HEADER, HEADER),
        );
    }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    if p.is_null() {
        // SAFETY: as x_malloc.
        return unsafe { x_malloc(n) };
    }
    let Some(new) = usize::try_from(n).ok().and_then(layout) else {
        return null_mut();
    };
    // SAFETY: `p` came from x_malloc or x_realloc; the old layout is the one it was made with.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        let old = base.cast::<usize>().read();
        let moved = realloc(
            base,
            Layout::from_size_align_unchecked(old + HEADER, HEADER),
            new.size(),
        );
        if moved.is_null() {
            return null_mut();
        }
        moved.cast::<usize>().write(new.size() - HEADER);
        moved.add(HEADER).cast()
    }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    // SAFETY: `p` came from x_malloc or x_realloc.
    let size = unsafe { p.cast::<u8>().sub(HEADER).cast::<usize>().read() };
    c_int::try_from(size).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    n.saturating_add(7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Routes SQLite's allocations to the Rust global allocator. Must run before anything opens a
/// database (SQLite refuses the setting once initialized); false if it was refused.
pub fn use_process_allocator() -> bool {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(x_malloc),
        xFree: Some(x_free),
        xRealloc: Some(x_realloc),
        xSize: Some(x_size),
        xRoundup: Some(x_roundup),
        xInit: Some(x_init),
        xShutdown: Some(x_shutdown),
        pAppData: null_mut(),
    };
    // SAFETY: SQLite copies the methods before returning; they are valid for the process.
    unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &raw const methods) == ffi::SQLITE_OK }
}
