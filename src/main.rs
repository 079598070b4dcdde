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
    std::process::exit(codex_system_design::cli::main_with(release_at_once));
}

/// Freed memory goes back to the OS at once, not after mimalloc's delay: a fresh 1 000-service
/// generation peaks about 25 MiB lower (issue 23). Only for the commands that render a tree:
/// elsewhere it costs time and saves nothing that matters (`validate` of 1 000 services paid
/// a fifth of its time re-faulting the pages it had just given back).
fn release_at_once() {
    // SAFETY: sets a documented option before any other thread exists (the command line was
    // only parsed); takes plain values.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}
