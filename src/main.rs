fn main() {
    std::process::exit(codex_system_design::cli::main());
}
