// mimalloc rather than the system allocator: `check` and `generate` build and drop millions of
// small nodes and strings on several threads, and glibc's per-thread heaps grew in small steps
// (an mprotect call each), a quarter of `check`'s time on a 1 000-service tree (issue 19).
// Built without transparent huge pages (`no_thp`): zeroing 2 MiB pages of which little is used
// cost `check` another tenth.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the sys crate names no constant).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Freed memory goes back to the OS at once, not after a second: by default a fresh
    // 1 000-service generation peaked at 1 060 MiB instead of glibc's 835; so 700 MiB.
    // SAFETY: sets a documented option before any other thread exists; takes plain values.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    std::process::exit(codex_system_design::cli::main());
}
