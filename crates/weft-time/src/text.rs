//! Text helpers shared by the duration and layout parsers: Go's `leadingInt` and the
//! quoting Go's time errors use.

/// Go's `leadingInt`: the leading digits as a number, `None` past 2^63.
pub(crate) fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while let Some(&c) = s.get(i)
        && c.is_ascii_digit()
    {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's quoting in time error messages: double quotes, `\xNN` for non-ASCII bytes.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_int_stops_at_non_digits_and_overflow() {
        assert_eq!(leading_int(b"123abc"), Some((123, &b"abc"[..])));
        assert_eq!(leading_int(b"x"), Some((0, &b"x"[..])));
        assert_eq!(
            leading_int(b"9223372036854775808"),
            Some((1 << 63, &b""[..]))
        );
        assert_eq!(leading_int(b"9223372036854775809"), None);
        assert_eq!(leading_int(b"99999999999999999999"), None);
    }

    #[test]
    fn quote_escapes_like_go() {
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("é\n"), "\"\\xc3\\xa9\\x0a\"");
    }
}
