// include_dir! embeds templates/ and blueprints/; tell cargo to rebuild when they change,
// including files added or removed (which cargo would otherwise not notice).
fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=blueprints");
}
