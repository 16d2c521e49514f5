//! The templates, static files and seed forms are built into the binary
//! (`src/assets.rs`); rebuild it whenever one of them changes.

fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=forms");
}
