// Links libringwire_c (bindings/c). RINGWIRE_C_LIB_DIR names the directory that holds
// libringwire_c.so (CMake passes $<TARGET_FILE_DIR:ringwire_c>); the directory also goes
// into the rpath of this package's tests, examples and benches so they run from the build
// tree. Without it the system's linker and loader find the library (an installed one).
use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RINGWIRE_C_LIB_DIR");
    if let Some(dir) = env::var_os("RINGWIRE_C_LIB_DIR") {
        let dir = dir.to_string_lossy().into_owned();
        if !dir.is_empty() {
            println!("cargo:rustc-link-search=native={}", dir);
            // Only this package's own binaries (tests, examples) get it; a crate that
            // depends on ringwire sets its own rpath or LD_LIBRARY_PATH.
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
            println!("cargo:lib_dir={}", dir);
        }
    }
    println!("cargo:rustc-link-lib=dylib=ringwire_c");
}
