// mimalloc rather than the system allocator: `check` and `generate` build and drop millions of
// small nodes and strings on several threads, and glibc's per-thread heaps grew in small steps
// (an mprotect call each), a quarter of `check`'s time on a 1 000-service tree (issue 19).
// Built without transparent huge pages (`no_thp`): zeroing 2 MiB pages of which little is used
// cost `check` another tenth.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(codex_system_design::cli::main());
}
