//! Print the synthetic benchmark blueprint: `cargo run --release --example synth -- N [TYPE]`
//! (TYPE: microservices, the default, monolith or serverless). `bench/run.sh` uses it.

#[path = "../tests/support/synth.rs"]
mod synth;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(n) = args.first().and_then(|a| a.parse::<usize>().ok()) else {
        eprintln!("usage: synth N [microservices|monolith|serverless]");
        std::process::exit(2);
    };
    let arch = args.get(1).map_or("microservices", String::as_str);
    print!("{}", synth::blueprint_for(n, arch));
}
