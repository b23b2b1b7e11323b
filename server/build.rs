//! Rebuild the server when the SPA (Trunk's `dist/`) changes, so the binary embeds the
//! current build. Trunk rewrites `dist/index.html` on every build (its asset names carry
//! content hashes).
fn main() {
    println!("cargo:rerun-if-changed=../dist/index.html");
}
