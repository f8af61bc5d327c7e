//! `test:wasi-user@0.1.0`: WASI 0.2 through Rust's std, as an ordinary guest uses it.

use std::io::{BufRead, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

wit_bindgen::generate!({
    world: "wasi-user",
    path: "wit",
    with: { "wasi:random/random@0.2.6": generate },
});

struct WasiUser;

fn text(e: impl ToString) -> String {
    e.to_string()
}

impl Guest for WasiUser {
    fn read_file(path: String) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(text)
    }

    fn write_file(path: String, contents: String) -> Result<(), String> {
        std::fs::write(path, contents).map_err(text)
    }

    fn list_dir(path: String) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path).map_err(text)? {
            let entry = entry.map_err(text)?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn get_env(name: String) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }

    fn get_env_vars() -> Vec<(String, String)> {
        std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    fn get_args() -> Vec<String> {
        std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn get_cwd() -> Result<String, String> {
        std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(text)
    }

    fn sleep_ms(ms: u64) -> u64 {
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(ms));
        start.elapsed().as_millis() as u64
    }

    fn print_line(s: String) {
        println!("{s}");
    }

    fn eprint_line(s: String) {
        eprintln!("{s}");
    }

    fn try_print_line(s: String) -> Result<(), String> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{s}").map_err(text)?;
        out.flush().map_err(text)
    }

    fn read_line() -> Result<String, String> {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(text)?;
        let trimmed = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(trimmed);
        Ok(line)
    }

    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn random_u64() -> u64 {
        wasi::random::random::get_random_u64()
    }

    fn tcp_connect(addr: String) -> Result<String, String> {
        std::net::TcpStream::connect(addr)
            .map(|_| "connected".to_string())
            .map_err(text)
    }

    fn tcp_listen(addr: String) -> Result<String, String> {
        let listener = std::net::TcpListener::bind(addr).map_err(text)?;
        let local = listener.local_addr().map_err(text)?;
        Ok(format!("listening {local}"))
    }

    fn resolve(host: String) -> Result<Vec<String>, String> {
        use std::net::ToSocketAddrs;
        let addrs = (host.as_str(), 0).to_socket_addrs().map_err(text)?;
        Ok(addrs.map(|a| a.ip().to_string()).collect())
    }

    fn exit_with(code: u32) {
        std::process::exit(code as i32)
    }
}

export!(WasiUser);
