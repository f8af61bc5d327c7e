//! Go's `url.QueryEscape` and `url.QueryUnescape`, which `encode_uri` / `decode_uri`
//! are and the query and form encodings use.

use super::error::ClientError;

/// Go's `url.QueryEscape`: letters, digits and `-_.~` stay, a space becomes `+`,
/// every other byte `%XX` (upper-case hex).
pub fn query_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.QueryUnescape`: `+` becomes a space and `%XX` its byte; a `%` not
/// followed by two hex digits is Invalid (`invalid URL escape "%zz"`).
pub fn query_unescape(s: &str) -> weft_core::Result<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3);
                let decoded = hex
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match decoded {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => {
                        let end = s.len().min(i + 3);
                        let shown = String::from_utf8_lossy(&bytes[i..end]);
                        return Err(ClientError::Escape(shown.into_owned()).into());
                    }
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_gos_query_escape() {
        assert_eq!(query_escape(b"a b&c=d/e~f*g"), "a+b%26c%3Dd%2Fe~f%2Ag");
        assert_eq!(query_escape("é".as_bytes()), "%C3%A9");
        assert_eq!(query_unescape("a+b%26c%3d").unwrap(), b"a b&c=");
        assert_eq!(query_unescape("%C3%A9").unwrap(), "é".as_bytes());
        for bad in ["%", "%z1", "ab%4", "%é"] {
            let err = query_unescape(bad).unwrap_err();
            assert_eq!(err.kind(), weft_core::ErrorKind::Invalid, "{bad}");
            assert!(err.message().starts_with("invalid URL escape"), "{err}");
        }
    }
}
