//! The values of literal tokens, for literal types and validator arguments: a string's
//! bytes after its escapes, a numeral's integer or float, read as Lua 5.4 reads them.

/// A numeral's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    /// An integer numeral that fits (decimal), or any hex integer (wrapping, as Lua does).
    Int(i64),
    /// Any other numeral.
    Float(f64),
}

impl Number {
    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The value negated.
    pub fn negate(self) -> Number {
        match self {
            Number::Int(i) => Number::Int(i.wrapping_neg()),
            Number::Float(f) => Number::Float(-f),
        }
    }
}

/// A numeral's value, or `None` when Lua would call it malformed.
pub(crate) fn number(text: &str) -> Option<Number> {
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    match hex {
        Some(digits) => hex_number(digits),
        None => decimal_number(text),
    }
}

/// A decimal numeral.
fn decimal_number(text: &str) -> Option<Number> {
    if text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = text.parse::<i64>()
    {
        return Some(Number::Int(i));
    }
    let valid = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !valid {
        return None;
    }
    text.parse::<f64>().ok().map(Number::Float)
}

/// A hex numeral's digits (after `0x`): an integer wraps, a float has `.` or `p`.
fn hex_number(digits: &str) -> Option<Number> {
    let (mantissa, exponent) = match digits.find(['p', 'P']) {
        Some(at) => (&digits[..at], Some(&digits[at + 1..])),
        None => (digits, None),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(at) => (&mantissa[..at], Some(&mantissa[at + 1..])),
        None => (mantissa, None),
    };
    let all_hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    if !all_hex(int_part)
        || !frac_part.is_none_or(all_hex)
        || (int_part.is_empty() && frac_part.is_none_or(str::is_empty))
    {
        return None;
    }
    if frac_part.is_none() && exponent.is_none() {
        let value = int_part.bytes().fold(0u64, |acc, b| {
            acc.wrapping_mul(16).wrapping_add(hex_digit(b))
        });
        return Some(Number::Int(value as i64));
    }
    let mut value = 0f64;
    for b in int_part.bytes() {
        value = value * 16.0 + hex_digit(b) as f64;
    }
    let mut scale = 0i64;
    for b in frac_part.unwrap_or("").bytes() {
        value = value * 16.0 + hex_digit(b) as f64;
        scale -= 4;
    }
    if let Some(exp) = exponent {
        let body = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let magnitude: i64 = body.parse().unwrap_or(i64::MAX / 2);
        scale = scale.saturating_add(if exp.starts_with('-') {
            -magnitude
        } else {
            magnitude
        });
    }
    let scale = i32::try_from(scale.clamp(-4000, 4000)).unwrap_or(0);
    Some(Number::Float(value * 2f64.powi(scale)))
}

/// A hex digit's value.
fn hex_digit(b: u8) -> u64 {
    match b {
        b'0'..=b'9' => u64::from(b - b'0'),
        b'a'..=b'f' => u64::from(b - b'a' + 10),
        b'A'..=b'F' => u64::from(b - b'A' + 10),
        _ => 0,
    }
}

/// A string token's bytes (short or long) after its escapes, or what is wrong with it.
pub(crate) fn string(text: &str) -> Result<Vec<u8>, &'static str> {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'[') => Ok(long_string(bytes)),
        Some(_) if bytes.len() >= 2 => short_string(&bytes[1..bytes.len() - 1]),
        _ => Err("a malformed string"),
    }
}

/// A long string's contents: the first line break skipped, each line break a `\n`.
fn long_string(bytes: &[u8]) -> Vec<u8> {
    let level = bytes[1..].iter().take_while(|&&b| b == b'=').count();
    let body = bytes
        .get(level + 2..bytes.len().saturating_sub(level + 2))
        .unwrap_or(&[]);
    let mut out = Vec::with_capacity(body.len());
    let mut i = skip_newline(body, 0);
    while i < body.len() {
        if matches!(body[i], b'\n' | b'\r') {
            out.push(b'\n');
            i = skip_newline(body, i);
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// A short string's body (without its quotes) after its escapes.
fn short_string(body: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            out.push(body[i]);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&c) = body.get(i) else {
            return Err("an unfinished escape sequence");
        };
        i += 1;
        let simple = match c {
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' | b'"' | b'\'' => Some(c),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        match c {
            b'\n' | b'\r' => {
                out.push(b'\n');
                i = skip_newline(body, i - 1);
            }
            b'z' => {
                while matches!(
                    body.get(i),
                    Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
                ) {
                    i += 1;
                }
            }
            b'x' => {
                let digits = body
                    .get(i..i + 2)
                    .filter(|d| d.iter().all(u8::is_ascii_hexdigit));
                let digits = digits.ok_or("an invalid \\x escape (two hex digits expected)")?;
                out.push((hex_digit(digits[0]) * 16 + hex_digit(digits[1])) as u8);
                i += 2;
            }
            b'0'..=b'9' => {
                let mut value = u32::from(c - b'0');
                for _ in 0..2 {
                    match body.get(i) {
                        Some(d) if d.is_ascii_digit() => {
                            value = value * 10 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(u8::try_from(value).map_err(|_| "a decimal escape too large")?);
            }
            b'u' => i = utf8_escape(body, i, &mut out)?,
            _ => return Err("an invalid escape sequence"),
        }
    }
    Ok(out)
}

/// A `\u{XXX}` escape from `i` (at `{`): appends its UTF-8 (Lua's, up to 2^31) bytes.
fn utf8_escape(body: &[u8], mut i: usize, out: &mut Vec<u8>) -> Result<usize, &'static str> {
    const BAD: &str = "an invalid \\u{…} escape";
    if body.get(i) != Some(&b'{') {
        return Err(BAD);
    }
    i += 1;
    let mut value: u64 = 0;
    let mut digits = 0;
    while let Some(&d) = body.get(i).filter(|d| d.is_ascii_hexdigit()) {
        value = value * 16 + hex_digit(d);
        if value > 0x7fff_ffff {
            return Err(BAD);
        }
        digits += 1;
        i += 1;
    }
    if digits == 0 || body.get(i) != Some(&b'}') {
        return Err(BAD);
    }
    let value = value as u32;
    if value < 0x80 {
        out.push(value as u8);
    } else {
        // Lua's luaO_utf8esc: continuation bytes from the low end, then the first byte.
        let mut tail = Vec::with_capacity(6);
        let mut x = value;
        let mut max_first: u32 = 0x3f;
        while x > max_first {
            tail.push(0x80 | (x & 0x3f) as u8);
            x >>= 6;
            max_first >>= 1;
        }
        out.push(((!max_first << 1) | x) as u8);
        out.extend(tail.iter().rev());
    }
    Ok(i + 1)
}

/// The index after a line break at `i` (`\n`, `\r`, `\r\n`, `\n\r`), or `i` if none.
fn skip_newline(body: &[u8], i: usize) -> usize {
    match body.get(i) {
        Some(&c @ (b'\n' | b'\r')) => match body.get(i + 1) {
            Some(&n @ (b'\n' | b'\r')) if n != c => i + 2,
            _ => i + 1,
        },
        _ => i,
    }
}
