//! The lexer: Lua 5.4's tokens plus the dialect's `->`, `!`, `?` and `@`, streamed one at
//! a time (nothing is buffered, so scanning untyped code allocates nothing).
//!
//! It follows `llex.c`: strings with every escape (`\z`, `\` + newline), long brackets
//! `[==[ … ]==]`, line and long comments, numerals read the way Lua reads them (hex
//! floats included), `//`, `::`, `<<`, `>>`, `~=`. `\n`, `\r`, `\r\n` and `\n\r` are each
//! one line break. Malformed input yields a [`Kind::Error`] token; the parser reports it.
//! The [`Cursor`] on top gives the current token, look-ahead (by cloning the lexer) and
//! the split of `>>` / `>=` that closing a generic list needs.

use crate::error::SyntaxError;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The end of the source.
    Eof,
    /// A name that is not a keyword.
    Name,
    /// A numeral.
    Number,
    /// A short or long string.
    String,
    // Keywords.
    And,
    Break,
    Do,
    Else,
    Elseif,
    End,
    False,
    For,
    Function,
    Goto,
    If,
    In,
    Local,
    Nil,
    Not,
    Or,
    Repeat,
    Return,
    Then,
    True,
    Until,
    While,
    // Lua's symbols.
    Plus,
    Minus,
    Star,
    Slash,
    DSlash,
    Percent,
    Caret,
    Hash,
    Amp,
    Tilde,
    Pipe,
    Shl,
    Shr,
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
    Assign,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    DColon,
    Semi,
    Colon,
    Comma,
    Dot,
    Concat,
    Dots,
    // The dialect's symbols.
    Arrow,
    Bang,
    Question,
    At,
    /// Malformed input.
    Error(LexError),
}

/// What is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LexError {
    /// A short string without its closing quote on its line.
    UnfinishedString,
    /// A long string without its closing bracket.
    UnfinishedLongString,
    /// A long comment without its closing bracket.
    UnfinishedLongComment,
    /// `[=` not followed by `=`s and `[`.
    InvalidLongDelimiter,
    /// A character Lua has no token for.
    UnexpectedCharacter,
}

/// A token: its kind, its byte range and the line it starts on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    /// What it is.
    pub kind: Kind,
    /// Its first byte.
    pub start: usize,
    /// The byte after its last.
    pub end: usize,
    /// The line it starts on, from 1.
    pub line: u32,
    /// The byte offset of that line's start.
    pub line_start: usize,
}

/// The lexer: a position in the source.
#[derive(Clone)]
pub(crate) struct Lexer<'s> {
    src: &'s [u8],
    pos: usize,
    line: u32,
    line_start: usize,
}

/// The current token over a lexer, with look-ahead.
pub(crate) struct Cursor<'s> {
    src: &'s str,
    lex: Lexer<'s>,
    /// The current token.
    pub tok: Token,
    /// The end of the token before the current one.
    pub prev_end: usize,
}

impl<'s> Lexer<'s> {
    /// A lexer at the start of `src`.
    pub fn new(src: &'s str) -> Self {
        Lexer {
            src: src.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// A lexer at `tok`'s start (to read a range of the source again).
    pub fn at(src: &'s str, tok: &Token) -> Self {
        Lexer {
            src: src.as_bytes(),
            pos: tok.start,
            line: tok.line,
            line_start: tok.line_start,
        }
    }

    /// The next token, skipping white space and comments.
    pub fn next_token(&mut self) -> Token {
        loop {
            let Some(&c) = self.src.get(self.pos) else {
                return self.token(Kind::Eof, self.pos);
            };
            match c {
                b'\n' | b'\r' => self.newline(),
                b' ' | b'\t' | 0x0b | 0x0c => self.pos += 1,
                b'-' if self.byte(1) == b'-' => {
                    if let Some(kind) = self.comment() {
                        return kind;
                    }
                }
                _ => return self.symbol(c),
            }
        }
    }

    /// Skips a comment at `--`; a token only for an unfinished long comment.
    fn comment(&mut self) -> Option<Token> {
        let start = self.pos;
        let (line, line_start) = (self.line, self.line_start);
        self.pos += 2;
        if self.byte(0) == b'['
            && let Some(level) = self.long_level()
        {
            if self.long_body(level) {
                return None;
            }
            let kind = Kind::Error(LexError::UnfinishedLongComment);
            return Some(Token {
                kind,
                start,
                end: self.pos,
                line,
                line_start,
            });
        }
        let rest = &self.src[self.pos..];
        self.pos += rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(rest.len());
        None
    }

    /// The token starting with `c` (not white space, not a comment).
    fn symbol(&mut self, c: u8) -> Token {
        let start = self.pos;
        let (line, line_start) = (self.line, self.line_start);
        let kind = match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.name(),
            b'0'..=b'9' => self.numeral(),
            b'.' if self.byte(1).is_ascii_digit() => self.numeral(),
            b'"' | b'\'' => self.short_string(c),
            b'[' => match self.long_level() {
                Some(level) if self.long_body(level) => Kind::String,
                Some(_) => Kind::Error(LexError::UnfinishedLongString),
                None if self.byte(1) == b'=' => {
                    self.pos += 1;
                    Kind::Error(LexError::InvalidLongDelimiter)
                }
                None => self.punct(1, Kind::LBracket),
            },
            _ => self.operator(c),
        };
        Token {
            kind,
            start,
            end: self.pos,
            line,
            line_start,
        }
    }

    /// An operator or punctuation.
    fn operator(&mut self, c: u8) -> Kind {
        let next = self.byte(1);
        match (c, next) {
            (b'-', b'>') => self.punct(2, Kind::Arrow),
            (b'/', b'/') => self.punct(2, Kind::DSlash),
            (b':', b':') => self.punct(2, Kind::DColon),
            (b'<', b'<') => self.punct(2, Kind::Shl),
            (b'<', b'=') => self.punct(2, Kind::Le),
            (b'>', b'>') => self.punct(2, Kind::Shr),
            (b'>', b'=') => self.punct(2, Kind::Ge),
            (b'=', b'=') => self.punct(2, Kind::Eq),
            (b'~', b'=') => self.punct(2, Kind::Ne),
            (b'.', b'.') if self.byte(2) == b'.' => self.punct(3, Kind::Dots),
            (b'.', b'.') => self.punct(2, Kind::Concat),
            _ => {
                let kind = match c {
                    b'+' => Kind::Plus,
                    b'-' => Kind::Minus,
                    b'*' => Kind::Star,
                    b'/' => Kind::Slash,
                    b'%' => Kind::Percent,
                    b'^' => Kind::Caret,
                    b'#' => Kind::Hash,
                    b'&' => Kind::Amp,
                    b'~' => Kind::Tilde,
                    b'|' => Kind::Pipe,
                    b'<' => Kind::Lt,
                    b'>' => Kind::Gt,
                    b'=' => Kind::Assign,
                    b'(' => Kind::LParen,
                    b')' => Kind::RParen,
                    b'{' => Kind::LBrace,
                    b'}' => Kind::RBrace,
                    b']' => Kind::RBracket,
                    b';' => Kind::Semi,
                    b':' => Kind::Colon,
                    b',' => Kind::Comma,
                    b'.' => Kind::Dot,
                    b'!' => Kind::Bang,
                    b'?' => Kind::Question,
                    b'@' => Kind::At,
                    _ => {
                        // One whole character, so every token starts on a char boundary.
                        let len = match c {
                            0xf0.. => 4,
                            0xe0.. => 3,
                            0xc0.. => 2,
                            _ => 1,
                        };
                        return self.punct(len, Kind::Error(LexError::UnexpectedCharacter));
                    }
                };
                self.punct(1, kind)
            }
        }
    }

    /// A name or keyword.
    fn name(&mut self) -> Kind {
        let start = self.pos;
        let rest = &self.src[start..];
        let len = rest
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(rest.len());
        self.pos += len;
        keyword(&rest[..len])
    }

    /// A numeral, read as `read_numeral` reads it (validity is Lua's to check).
    fn numeral(&mut self) -> Kind {
        let mut expo = [b'e', b'E'];
        if self.byte(0) == b'0' && matches!(self.byte(1), b'x' | b'X') {
            expo = [b'p', b'P'];
            self.pos += 2;
        }
        loop {
            let c = self.byte(0);
            if expo.contains(&c) {
                self.pos += 1;
                if matches!(self.byte(0), b'+' | b'-') {
                    self.pos += 1;
                }
            } else if c.is_ascii_hexdigit() || c == b'.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.byte(0).is_ascii_alphabetic() || self.byte(0) == b'_' {
            self.pos += 1;
        }
        Kind::Number
    }

    /// A short string opened by `quote`.
    fn short_string(&mut self, quote: u8) -> Kind {
        self.pos += 1;
        loop {
            let Some(&c) = self.src.get(self.pos) else {
                return Kind::Error(LexError::UnfinishedString);
            };
            match c {
                b'\n' | b'\r' => return Kind::Error(LexError::UnfinishedString),
                b'\\' => {
                    self.pos += 1;
                    match self.byte(0) {
                        b'\n' | b'\r' => self.newline(),
                        b'z' => {
                            self.pos += 1;
                            while let Some(&w) = self.src.get(self.pos) {
                                match w {
                                    b'\n' | b'\r' => self.newline(),
                                    b' ' | b'\t' | 0x0b | 0x0c => self.pos += 1,
                                    _ => break,
                                }
                            }
                        }
                        _ if self.pos < self.src.len() => self.pos += 1,
                        _ => {}
                    }
                }
                _ if c == quote => {
                    self.pos += 1;
                    return Kind::String;
                }
                _ => self.pos += 1,
            }
        }
    }

    /// At `[`: the level of a long bracket `[==[` (consumed), or `None` (nothing consumed).
    fn long_level(&mut self) -> Option<usize> {
        let eqs = self.src[self.pos + 1..]
            .iter()
            .take_while(|&&b| b == b'=')
            .count();
        if self.byte(1 + eqs) == b'[' {
            self.pos += eqs + 2;
            Some(eqs)
        } else {
            None
        }
    }

    /// Reads a long bracket's body up to its closing `]==]`; false at the end of the source.
    fn long_body(&mut self, level: usize) -> bool {
        while let Some(&c) = self.src.get(self.pos) {
            match c {
                b'\n' | b'\r' => self.newline(),
                b']' => {
                    let eqs = self.src[self.pos + 1..]
                        .iter()
                        .take_while(|&&b| b == b'=')
                        .count();
                    if eqs == level && self.byte(1 + eqs) == b']' {
                        self.pos += eqs + 2;
                        return true;
                    }
                    self.pos += 1 + eqs;
                }
                _ => self.pos += 1,
            }
        }
        false
    }

    /// Consumes one line break (`\n`, `\r`, `\r\n` or `\n\r`).
    fn newline(&mut self) {
        let c = self.byte(0);
        self.pos += 1;
        let next = self.byte(0);
        if (next == b'\n' || next == b'\r') && next != c {
            self.pos += 1;
        }
        self.line = self.line.saturating_add(1);
        self.line_start = self.pos;
    }

    /// Consumes `len` bytes of a symbol.
    fn punct(&mut self, len: usize, kind: Kind) -> Kind {
        self.pos += len;
        kind
    }

    /// The byte `ahead` bytes after the position, 0 past the end.
    fn byte(&self, ahead: usize) -> u8 {
        self.src.get(self.pos + ahead).copied().unwrap_or(0)
    }

    /// A token of `kind` from `start` to the position, on the current line.
    fn token(&self, kind: Kind, start: usize) -> Token {
        Token {
            kind,
            start,
            end: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }
}

impl<'s> Cursor<'s> {
    /// A cursor on the first token of `src`.
    pub fn new(src: &'s str) -> Self {
        let mut lex = Lexer::new(src);
        let tok = lex.next_token();
        Cursor {
            src,
            lex,
            tok,
            prev_end: 0,
        }
    }

    /// The source.
    pub fn src(&self) -> &'s str {
        self.src
    }

    /// The current token's kind.
    pub fn kind(&self) -> Kind {
        self.tok.kind
    }

    /// Moves to the next token.
    pub fn advance(&mut self) {
        self.prev_end = self.tok.end;
        self.tok = self.lex.next_token();
    }

    /// The token after the current one.
    pub fn peek(&self) -> Token {
        self.lex.clone().next_token()
    }

    /// The two tokens after the current one.
    pub fn peek2(&self) -> (Token, Token) {
        let mut lex = self.lex.clone();
        let first = lex.next_token();
        (first, lex.next_token())
    }

    /// A lexer just after the current token (for a longer look-ahead).
    pub fn lookahead(&self) -> Lexer<'s> {
        self.lex.clone()
    }

    /// A token's text.
    pub fn text(&self, tok: Token) -> &'s str {
        self.src.get(tok.start..tok.end).unwrap_or("")
    }

    /// Whether the current token is the name `word`.
    pub fn is_word(&self, word: &str) -> bool {
        self.tok.kind == Kind::Name && self.text(self.tok) == word
    }

    /// Turns a current `>>` or `>=` into `>`, leaving the rest for the next token.
    pub fn split_gt(&mut self) {
        if matches!(self.tok.kind, Kind::Shr | Kind::Ge) {
            self.tok.kind = Kind::Gt;
            self.tok.end = self.tok.start + 1;
            self.lex.pos = self.tok.end;
        }
    }

    /// Where `tok` is: its line and column (in characters), both from 1.
    pub fn position(&self, tok: Token) -> (u32, u32) {
        let prefix = self
            .src
            .as_bytes()
            .get(tok.line_start..tok.start)
            .unwrap_or(&[]);
        let chars = prefix.iter().filter(|&&b| b & 0xc0 != 0x80).count();
        (tok.line, u32::try_from(chars + 1).unwrap_or(u32::MAX))
    }

    /// An error at `tok`.
    pub fn error_at(&self, tok: Token, message: impl Into<String>) -> SyntaxError {
        let (line, column) = self.position(tok);
        SyntaxError {
            line,
            column,
            message: message.into(),
        }
    }

    /// An error at the current token.
    pub fn error(&self, message: impl Into<String>) -> SyntaxError {
        self.error_at(self.tok, message)
    }

    /// How a token reads in a message: `'x'`, `<eof>`, or what is malformed.
    pub fn describe(&self, tok: Token) -> String {
        match tok.kind {
            Kind::Eof => "<eof>".into(),
            Kind::Error(e) => e.message().into(),
            _ => {
                let text = self.text(tok);
                match text.char_indices().nth(40) {
                    Some((cut, _)) => format!("'{}…'", &text[..cut]),
                    None => format!("'{text}'"),
                }
            }
        }
    }

    /// An error at the current token: `expected …, found …`.
    pub fn expected(&self, what: &str) -> SyntaxError {
        self.error(format!(
            "expected {what}, found {}",
            self.describe(self.tok)
        ))
    }
}

impl LexError {
    /// What the error says.
    pub fn message(self) -> &'static str {
        match self {
            LexError::UnfinishedString => "an unfinished string",
            LexError::UnfinishedLongString => "an unfinished long string",
            LexError::UnfinishedLongComment => "an unfinished long comment",
            LexError::InvalidLongDelimiter => "an invalid long string delimiter",
            LexError::UnexpectedCharacter => "a character Lua has no token for",
        }
    }
}

/// The keyword `word` is, or [`Kind::Name`].
fn keyword(word: &[u8]) -> Kind {
    match word {
        b"and" => Kind::And,
        b"break" => Kind::Break,
        b"do" => Kind::Do,
        b"else" => Kind::Else,
        b"elseif" => Kind::Elseif,
        b"end" => Kind::End,
        b"false" => Kind::False,
        b"for" => Kind::For,
        b"function" => Kind::Function,
        b"goto" => Kind::Goto,
        b"if" => Kind::If,
        b"in" => Kind::In,
        b"local" => Kind::Local,
        b"nil" => Kind::Nil,
        b"not" => Kind::Not,
        b"or" => Kind::Or,
        b"repeat" => Kind::Repeat,
        b"return" => Kind::Return,
        b"then" => Kind::Then,
        b"true" => Kind::True,
        b"until" => Kind::Until,
        b"while" => Kind::While,
        _ => Kind::Name,
    }
}

impl Kind {
    /// Whether this is a keyword (a word Lua reserves).
    pub fn is_keyword(self) -> bool {
        use Kind::*;
        matches!(
            self,
            And | Break
                | Do
                | Else
                | Elseif
                | End
                | False
                | For
                | Function
                | Goto
                | If
                | In
                | Local
                | Nil
                | Not
                | Or
                | Repeat
                | Return
                | Then
                | True
                | Until
                | While
        )
    }
}
