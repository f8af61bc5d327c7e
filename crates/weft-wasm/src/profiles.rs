//! Host import profiles (reference §3.4): each `imports:` name selects a fixed group of
//! interfaces ([`Profile`]), and the set an entry imported is its [`Grants`]. Names are
//! matched after lower-casing, trimming and cutting at the first `@` (so
//! `wasi:io/poll@0.2.9` is `wasi:poll`); the id's name part and the whole id are both
//! tried.

use weft_core::{Error, Result};

/// A host profile an entry can import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `wippy:runtime/funcs`: call registry functions.
    Funcs,
    /// WASI preview 1 (core modules; accepted, grants nothing extra).
    Wasi1,
    /// `wasi:io/error`, `wasi:io/streams`.
    Io,
    /// `wasi:io/poll`.
    Poll,
    /// `wasi:clocks/*`.
    Clocks,
    /// `wasi:cli/*`.
    Cli,
    /// `wasi:filesystem/*`.
    Filesystem,
    /// `wasi:random/*`.
    Random,
    /// `wasi:sockets/*`.
    Sockets,
    /// `wasi:http/types`, `wasi:http/outgoing-handler`.
    Http,
}

/// The profiles an entry imported.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Grants(u16);

impl Grants {
    /// The grants of these profiles.
    pub fn of(profiles: &[Profile]) -> Grants {
        Grants(profiles.iter().fold(0, |set, p| set | Self::bit(*p)))
    }

    /// Whether `profile` was imported.
    pub fn has(self, profile: Profile) -> bool {
        self.0 & Self::bit(profile) != 0
    }

    /// The bit of `profile` in the set.
    fn bit(profile: Profile) -> u16 {
        1 << profile as u16
    }
}

/// Accepted names (normalized) for each profile.
const NAMES: &[(Profile, &[&str])] = &[
    (Profile::Funcs, &["funcs", "wippy:runtime/funcs"]),
    (
        Profile::Wasi1,
        &[
            "wasi1",
            "wasi-preview1",
            "preview1",
            "wasi_snapshot_preview1",
        ],
    ),
    (
        Profile::Io,
        &["wasi:io", "wasi:io/error", "wasi:io/streams"],
    ),
    (Profile::Poll, &["wasi:poll", "wasi:io/poll"]),
    (
        Profile::Clocks,
        &[
            "wasi:clocks",
            "wasi:clocks/wall-clock",
            "wasi:clocks/monotonic-clock",
        ],
    ),
    (
        Profile::Cli,
        &[
            "wasi:cli",
            "wasi:cli/environment",
            "wasi:cli/exit",
            "wasi:cli/stdin",
            "wasi:cli/stdout",
            "wasi:cli/stderr",
            "wasi:cli/terminal-stdin",
            "wasi:cli/terminal-stdout",
            "wasi:cli/terminal-stderr",
        ],
    ),
    (
        Profile::Filesystem,
        &[
            "wasi:filesystem",
            "wasi:filesystem/types",
            "wasi:filesystem/preopens",
        ],
    ),
    (
        Profile::Random,
        &[
            "wasi:random",
            "wasi:random/random",
            "wasi:random/insecure",
            "wasi:random/insecure-seed",
        ],
    ),
    (
        Profile::Sockets,
        &[
            "wasi:sockets",
            "wasi:sockets/instance-network",
            "wasi:sockets/tcp-create-socket",
            "wasi:sockets/tcp",
            "wasi:sockets/udp-create-socket",
            "wasi:sockets/udp",
            "wasi:sockets/ip-name-lookup",
        ],
    ),
    (
        Profile::Http,
        &["wasi:http", "wasi:http/types", "wasi:http/outgoing-handler"],
    ),
];

/// The profile an `imports:` id names, if any.
pub fn lookup(id: &str) -> Option<Profile> {
    let normalize = |s: &str| {
        let s = s.trim().to_lowercase();
        match s.find('@') {
            Some(at) => s[..at].to_string(),
            None => s,
        }
    };
    let whole = normalize(id);
    let name_part = id.split_once(':').map(|(_, n)| normalize(n));
    NAMES.iter().find_map(|(profile, names)| {
        names
            .iter()
            .any(|n| *n == whole || name_part.as_deref() == Some(*n))
            .then_some(*profile)
    })
}

/// Checks every import name; component-only profiles need a component.
pub fn check(imports: &[String], component: bool) -> Result<Vec<Profile>> {
    let mut out = Vec::with_capacity(imports.len());
    for id in imports {
        let profile = lookup(id)
            .ok_or_else(|| Error::invalid(format!("unsupported wasm host import: {id}")))?;
        if !component && profile != Profile::Wasi1 {
            return Err(Error::invalid(format!(
                "wasm host import requires component module: {id}"
            )));
        }
        if !out.contains(&profile) {
            out.push(profile);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_versions_resolve() {
        assert_eq!(lookup("wasi:io/poll@0.2.9"), Some(Profile::Poll));
        assert_eq!(lookup("funcs@0.1.0"), Some(Profile::Funcs));
        assert_eq!(lookup("wippy:runtime/funcs"), Some(Profile::Funcs));
        assert_eq!(lookup(" WASI:CLI/Stdout "), Some(Profile::Cli));
        assert_eq!(lookup("wasi:io"), Some(Profile::Io));
        assert_eq!(lookup("wasi:http/incoming-handler"), None);
        assert_eq!(lookup("wasi:cli/run"), None);
    }

    #[test]
    fn grants_hold_exactly_their_profiles() {
        let g = Grants::of(&[Profile::Cli, Profile::Clocks]);
        assert!(g.has(Profile::Cli) && g.has(Profile::Clocks));
        assert!(!g.has(Profile::Filesystem) && !g.has(Profile::Funcs));
    }

    #[test]
    fn check_gives_the_reference_messages() {
        let err = check(&["wasi:nope".into()], true).unwrap_err();
        assert_eq!(err.message(), "unsupported wasm host import: wasi:nope");
        let err = check(&["wasi:clocks".into()], false).unwrap_err();
        assert_eq!(
            err.message(),
            "wasm host import requires component module: wasi:clocks"
        );
        assert!(check(&["wasi1".into()], false).is_ok());
    }
}
