//! Header names in Go's canonical form (`textproto.CanonicalMIMEHeaderKey`).
//!
//! hyper hands names over in lower case; Wippy apps index headers by Go's canonical
//! names (`resp.headers["Access-Control-Allow-Origin"]`), so every name shown to Lua goes
//! through [`canonical_header_name`].

/// `name` in Go's canonical form: the first letter and every letter after a `-` upper
/// case, the rest lower case. A name with a byte that is not a token character (a space,
/// a colon…) is returned unchanged, as Go does.
pub fn canonical_header_name(name: &str) -> String {
    if !name.bytes().all(is_token_byte) {
        return name.to_string();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// A byte allowed in a header name (RFC 7230 `tchar`).
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_gos_canonical_form() {
        for (raw, canonical) in [
            ("content-type", "Content-Type"),
            ("x-custom-header", "X-Custom-Header"),
            ("ACCESS-CONTROL-ALLOW-ORIGIN", "Access-Control-Allow-Origin"),
            ("www-authenticate", "Www-Authenticate"),
            ("x-ssl", "X-Ssl"),
            ("vary", "Vary"),
            ("-x", "-X"),
            ("a--b", "A--B"),
        ] {
            assert_eq!(canonical_header_name(raw), canonical, "{raw}");
        }
    }

    #[test]
    fn names_with_non_token_bytes_stay_as_they_are() {
        for raw in ["bad name", "x:y", "caf\u{e9}"] {
            assert_eq!(canonical_header_name(raw), raw);
        }
    }
}
