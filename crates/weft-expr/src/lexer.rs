//! The lexer: expression text to [`Token`]s, each with the byte offset it starts at.
//!
//! Words (`and`, `in`, `true`, names) are all [`Tok::Ident`]; the parser tells keywords
//! from names. Numbers follow expr-lang: `1_000`, `0x2A`, `0o52`, `0b101`, `1.5`, `.5`,
//! `1e3`. Strings are `"…"` or `'…'` with Go escapes, or `` `…` `` raw.

use crate::Error;

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string literal, unescaped.
    Str(String),
    /// A word: a name or a keyword.
    Ident(String),
    /// `#`, `#index` or `#acc`: the name after `#` (empty for `#` alone).
    Pound(String),
    /// Punctuation or a symbolic operator.
    Punct(&'static str),
    /// The end of the text.
    End,
}

/// A token and where it starts (a byte offset into the source).
#[derive(Clone, Debug)]
pub(crate) struct Token {
    /// The token.
    pub(crate) tok: Tok,
    /// Its byte offset.
    pub(crate) at: usize,
}

/// Symbolic operators and punctuation, longest first so `**` wins over `*`.
const PUNCT: [&str; 30] = [
    "?.", "??", "**", "==", "!=", "<=", ">=", "&&", "||", "..", "+", "-", "*", "/", "%", "^", "<",
    ">", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", "|",
];

/// Splits `src` into tokens, ending with [`Tok::End`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, Error> {
    let mut lexer = Lexer { src, pos: 0 };
    let mut out = Vec::new();
    loop {
        let token = lexer.next()?;
        let end = token.tok == Tok::End;
        out.push(token);
        if end {
            return Ok(out);
        }
    }
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

impl Lexer<'_> {
    /// The next token, after whitespace and comments.
    fn next(&mut self) -> Result<Token, Error> {
        self.skip_blank()?;
        let at = self.pos;
        let rest = &self.src[at..];
        let Some(c) = rest.chars().next() else {
            return Ok(Token { tok: Tok::End, at });
        };
        let tok = if c.is_ascii_digit() || (c == '.' && starts_digit(&rest[1..])) {
            self.number()?
        } else if c == '"' || c == '\'' {
            self.quoted(c)?
        } else if c == '`' {
            self.raw()?
        } else if c == '#' {
            self.pos += 1;
            Tok::Pound(self.word().to_string())
        } else if is_word_start(c) {
            Tok::Ident(self.word().to_string())
        } else if let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) {
            // `?.` before a digit is `?` then a number (`a ?.5 : 1`), as in expr-lang.
            if *p == "?." && starts_digit(&rest[2..]) {
                self.pos += 1;
                Tok::Punct("?")
            } else {
                self.pos += p.len();
                Tok::Punct(p)
            }
        } else {
            return Err(Error::syntax(
                format!("unexpected character {c:?}"),
                self.src,
                at,
            ));
        };
        Ok(Token { tok, at })
    }

    /// Skips spaces, `// …` and `/* … */`.
    fn skip_blank(&mut self) -> Result<(), Error> {
        loop {
            let rest = &self.src[self.pos..];
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(body) = trimmed.strip_prefix("/*") {
                let Some(end) = body.find("*/") else {
                    return Err(Error::syntax("unclosed comment", self.src, self.pos));
                };
                self.pos += end + 4;
            } else {
                return Ok(());
            }
        }
    }

    /// A run of word characters (possibly empty).
    fn word(&mut self) -> &str {
        let rest = &self.src[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// An integer or float literal.
    fn number(&mut self) -> Result<Tok, Error> {
        let at = self.pos;
        let rest = &self.src[at..];
        let radix = match rest.get(..2) {
            Some("0x" | "0X") => 16,
            Some("0o" | "0O") => 8,
            Some("0b" | "0B") => 2,
            _ => 10,
        };
        if radix != 10 {
            let body = &rest[2..];
            let len = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(body.len());
            self.pos += 2 + len;
            let digits = clean_digits(&body[..len], self.src, at)?;
            return i64::from_str_radix(&digits, radix)
                .map(Tok::Int)
                .map_err(|e| Error::syntax(format!("invalid integer: {e}"), self.src, at));
        }
        let bytes = rest.as_bytes();
        let mut len = digits_len(bytes, 0);
        let mut float = false;
        // A `.` starts a fraction unless it is `..` (a range) or a member access (`1.x`).
        if bytes.get(len) == Some(&b'.') && bytes.get(len + 1) != Some(&b'.') {
            let after = bytes.get(len + 1).copied();
            if !after.is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') {
                float = true;
                len = digits_len(bytes, len + 1);
            }
        }
        if matches!(bytes.get(len), Some(b'e' | b'E')) {
            let mut end = len + 1;
            if matches!(bytes.get(end), Some(b'+' | b'-')) {
                end += 1;
            }
            if bytes.get(end).is_some_and(u8::is_ascii_digit) {
                float = true;
                len = digits_len(bytes, end);
            }
        }
        self.pos += len;
        let digits = clean_digits(&rest[..len], self.src, at)?;
        if float {
            match digits.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
                _ => Err(Error::syntax("float literal out of range", self.src, at)),
            }
        } else {
            digits
                .parse::<i64>()
                .map(Tok::Int)
                .map_err(|e| Error::syntax(format!("invalid integer: {e}"), self.src, at))
        }
    }

    /// A `"…"` or `'…'` string with Go escapes.
    fn quoted(&mut self, quote: char) -> Result<Tok, Error> {
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.src[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.pos = start + 1 + i + 1;
                    return Ok(Tok::Str(out));
                }
                '\n' | '\r' => break,
                '\\' => {
                    let at = start + 1 + i;
                    let bad = || Error::syntax("invalid escape in string", self.src, at);
                    let (_, e) = chars.next().ok_or_else(bad)?;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'v' => out.push('\u{b}'),
                        'a' => out.push('\u{7}'),
                        '0' => out.push('\0'),
                        '\\' | '/' | '"' | '\'' => out.push(e),
                        'u' | 'x' => {
                            let n = if e == 'u' { 4 } else { 2 };
                            let hex: String = chars.by_ref().take(n).map(|(_, h)| h).collect();
                            let code = (hex.len() == n)
                                .then(|| u32::from_str_radix(&hex, 16).ok())
                                .flatten()
                                .and_then(char::from_u32)
                                .ok_or_else(bad)?;
                            out.push(code);
                        }
                        _ => return Err(bad()),
                    }
                }
                c => out.push(c),
            }
        }
        Err(Error::syntax("unterminated string", self.src, start))
    }

    /// A `` `…` `` raw string.
    fn raw(&mut self) -> Result<Tok, Error> {
        let start = self.pos;
        let body = &self.src[start + 1..];
        let Some(end) = body.find('`') else {
            return Err(Error::syntax("unterminated string", self.src, start));
        };
        self.pos = start + 1 + end + 1;
        Ok(Tok::Str(body[..end].to_string()))
    }
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn starts_digit(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// The end of a run of digits and `_` from `from`.
fn digits_len(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_digit() || *b == b'_')
    {
        end += 1;
    }
    end
}

/// The literal without `_` separators; a separator must sit between two digits.
fn clean_digits(text: &str, src: &str, at: usize) -> Result<String, Error> {
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'_' {
            let before = i.checked_sub(1).and_then(|j| bytes.get(j));
            let after = bytes.get(i + 1);
            if !before.is_some_and(u8::is_ascii_alphanumeric)
                || !after.is_some_and(u8::is_ascii_alphanumeric)
            {
                return Err(Error::syntax("misplaced `_` in number", src, at));
            }
        }
    }
    Ok(text.replace('_', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_in_every_form() {
        assert_eq!(toks("42")[0], Tok::Int(42));
        assert_eq!(toks("1_000")[0], Tok::Int(1000));
        assert_eq!(toks("0x2A")[0], Tok::Int(42));
        assert_eq!(toks("0o52")[0], Tok::Int(42));
        assert_eq!(toks("0b101010")[0], Tok::Int(42));
        assert_eq!(toks("1.5")[0], Tok::Float(1.5));
        assert_eq!(toks(".5")[0], Tok::Float(0.5));
        assert_eq!(toks("1e3")[0], Tok::Float(1000.0));
        assert_eq!(toks("1.2e-4")[0], Tok::Float(0.00012));
        assert_eq!(
            toks("1..3")[..3],
            [Tok::Int(1), Tok::Punct(".."), Tok::Int(3)]
        );
        for bad in ["1__0", "1_", "9223372036854775808", "0x", "1e9999", "0xZZ"] {
            assert!(tokenize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(toks(r#""a\"b\n""#)[0], Tok::Str("a\"b\n".into()));
        assert_eq!(toks(r"'it\'s'")[0], Tok::Str("it's".into()));
        assert_eq!(toks(r#""\u00e9\x41""#)[0], Tok::Str("éA".into()));
        assert_eq!(toks("`raw\\n\nline`")[0], Tok::Str("raw\\n\nline".into()));
        for bad in [r#""open"#, "'a\nb'", r#""\q""#, r#""\u12""#, "`open"] {
            assert!(tokenize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn words_operators_and_comments() {
        assert_eq!(
            toks("a?.b ?? #index // note\n /* c */ not"),
            [
                Tok::Ident("a".into()),
                Tok::Punct("?."),
                Tok::Ident("b".into()),
                Tok::Punct("??"),
                Tok::Pound("index".into()),
                Tok::Ident("not".into()),
                Tok::End,
            ]
        );
        assert_eq!(toks("x ?.5 : 1")[1], Tok::Punct("?"));
        assert_eq!(toks("2**3")[1], Tok::Punct("**"));
        assert!(tokenize("a @ b").is_err());
        assert!(tokenize("/* open").is_err());
    }
}
