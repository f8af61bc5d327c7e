//! The component behind examples/wasm-cli: a plain export, a directory listing through a
//! WASI mount, and an environment variable through wasi:cli/environment.

wit_bindgen::generate!({ world: "wasm-cli", path: "wit" });

struct WasmCli;

impl Guest for WasmCli {
    fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }

    fn list_files(path: String) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&path).map_err(|e| format!("{path}: {e}"))? {
            let entry = entry.map_err(|e| format!("{path}: {e}"))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn greeting_env() -> String {
        let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".to_string());
        format!("{greeting}, from the environment!")
    }
}

export!(WasmCli);
