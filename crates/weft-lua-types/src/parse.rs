//! The finder of type syntax: a recognizer of Lua 5.4's grammar (it builds no tree) that
//! records, as it goes, the [`Edit`]s erasing the dialect's type syntax and, on request,
//! the annotation [`Site`]s.
//!
//! It follows `lparser.c`'s structure, so it knows where an annotation can be: after a
//! declared name (`local x: T`, parameters, `for` variables), after a parameter list (the
//! return types), after a function's name (`<T>`), after a complete expression (`::`,
//! `as`, postfix `!`), at a statement's start (`type` / `export type`). Where Lua's own
//! checks are not needed to find those, it is more lenient than Lua (an expression
//! statement need not be a call): Lua 5.4 checks the erased code.
//!
//! Contextual words: `type Name` and `export type Name` start a declaration only at a
//! statement's start (plain Lua cannot have a name there). `as` after a complete
//! expression is a cast unless followed by `=`, `,`, `.`, `[` or `:` (it is then the
//! variable `as` starting the next statement), or by `(` whose matching `)` is not followed
//! by `->`, `?` or `@` (a call of `as`; looked for within [`LOOKAHEAD`] tokens). So
//! `as "x"` and `as {…}` right after an expression are casts, not calls with string or table
//! sugar. `:: Name ::` is always a label, never a cast.
//!
//! Nesting is limited to [`MAX_LEVELS`] (Lua 5.4's own limit), so the recursion is bounded
//! whatever the input: a source nested deeper is one Lua rejects anyway.

use crate::ast::{Type, TypeDecl};
use crate::codegen;
use crate::error::Result;
use crate::lex::{Cursor, Kind, Token};
use crate::scope::{Annotation, Scope};
use crate::sites::{Site, SiteKind};
use crate::types;

/// How deeply statements and expressions may nest: Lua 5.4's own limit, counted where
/// `lparser.c` counts (each statement, each expression), where Lua counts at least as many
/// (its operators recurse), so whatever Lua accepts stays under it.
const MAX_LEVELS: u32 = 200;

/// How many tokens `as (` looks ahead for a function type.
const LOOKAHEAD: usize = 1000;

/// A change to the source.
pub(crate) enum Edit {
    /// Bytes `start..end` become spaces (line breaks stay).
    Blank(usize, usize),
    /// Bytes `start..end` become the text.
    Replace(usize, usize, String),
}

/// The parser's state.
pub(crate) struct Parser<'s> {
    cur: Cursor<'s>,
    levels: u32,
    /// Whether type syntax was met (set as soon as a construct starts).
    pub typed: bool,
    /// The edits erasing it, in source order.
    pub edits: Vec<Edit>,
    /// The annotation sites, when asked for.
    pub sites: Option<Vec<Site>>,
    scope: Scope<'s>,
    generics: Vec<String>,
}

/// Makes a variable's site from its name and type.
type VarSite = fn(String, Type) -> SiteKind;

impl<'s> Parser<'s> {
    /// A parser at the start of `src`, keeping sites if `sites`.
    pub fn new(src: &'s str, sites: bool) -> Self {
        Parser {
            cur: Cursor::new(src),
            levels: 0,
            typed: false,
            edits: Vec::new(),
            sites: sites.then(Vec::new),
            scope: Scope::default(),
            generics: Vec::new(),
        }
    }

    /// Reads the whole source.
    pub fn chunk(&mut self) -> Result<()> {
        self.block()?;
        if self.cur.kind() != Kind::Eof {
            return Err(self.cur.expected("<eof>"));
        }
        Ok(())
    }

    /// A block: statements up to a block end, maybe a final `return`.
    fn block(&mut self) -> Result<()> {
        loop {
            match self.cur.kind() {
                Kind::Return => return self.return_statement(),
                Kind::Else | Kind::Elseif | Kind::End | Kind::Eof | Kind::Until => return Ok(()),
                _ => self.statement()?,
            }
        }
    }

    /// A block whose locals end with it.
    fn scoped_block(&mut self) -> Result<()> {
        let mark = self.scope.mark();
        self.block()?;
        self.scope.close(mark);
        Ok(())
    }

    /// One statement.
    fn statement(&mut self) -> Result<()> {
        self.enter()?;
        let open = self.cur.tok;
        match open.kind {
            Kind::Semi | Kind::Break => self.cur.advance(),
            Kind::If => {
                self.cur.advance();
                self.condition_then()?;
                while self.cur.kind() == Kind::Elseif {
                    self.cur.advance();
                    self.condition_then()?;
                }
                if self.cur.kind() == Kind::Else {
                    self.cur.advance();
                    self.scoped_block()?;
                }
                self.close(Kind::End, open)?;
            }
            Kind::While => {
                self.cur.advance();
                self.expr()?;
                self.expect(Kind::Do, "'do'")?;
                self.scoped_block()?;
                self.close(Kind::End, open)?;
            }
            Kind::Do => {
                self.cur.advance();
                self.scoped_block()?;
                self.close(Kind::End, open)?;
            }
            Kind::For => self.for_statement()?,
            Kind::Repeat => {
                self.cur.advance();
                let mark = self.scope.mark();
                self.block()?;
                self.close(Kind::Until, open)?;
                self.expr()?;
                self.scope.close(mark);
            }
            Kind::Function => self.function_statement()?,
            Kind::Local => {
                self.cur.advance();
                if self.cur.kind() == Kind::Function {
                    let function = self.cur.tok;
                    self.cur.advance();
                    let name = self.name()?;
                    self.scope.declare(name, None, false);
                    self.body(function, false)?;
                } else {
                    self.local_statement()?;
                }
            }
            Kind::DColon => {
                self.cur.advance();
                self.name()?;
                self.expect(Kind::DColon, "'::' to end the label")?;
            }
            Kind::Goto => {
                self.cur.advance();
                self.name()?;
            }
            Kind::Name if self.at_type_declaration() => self.type_declaration()?,
            _ => self.expression_statement()?,
        }
        self.levels -= 1;
        Ok(())
    }

    /// `return [explist] [';']`.
    fn return_statement(&mut self) -> Result<()> {
        self.cur.advance();
        use Kind::*;
        if !matches!(self.cur.kind(), Else | Elseif | End | Eof | Until | Semi) {
            self.explist()?;
        }
        if self.cur.kind() == Semi {
            self.cur.advance();
        }
        Ok(())
    }

    /// `cond then block` (of `if` / `elseif`).
    fn condition_then(&mut self) -> Result<()> {
        self.expr()?;
        self.expect(Kind::Then, "'then'")?;
        self.scoped_block()
    }

    /// `for` numeric or generic, variables maybe annotated.
    #[inline(never)]
    fn for_statement(&mut self) -> Result<()> {
        let open = self.cur.tok;
        self.cur.advance();
        let mark = self.scope.mark();
        self.declared_name(|name, ty| SiteKind::ForVar { name, ty })?;
        match self.cur.kind() {
            Kind::Assign => {
                self.cur.advance();
                self.expr()?;
                self.expect(Kind::Comma, "','")?;
                self.expr()?;
                if self.cur.kind() == Kind::Comma {
                    self.cur.advance();
                    self.expr()?;
                }
            }
            Kind::Comma | Kind::In => {
                while self.cur.kind() == Kind::Comma {
                    self.cur.advance();
                    self.declared_name(|name, ty| SiteKind::ForVar { name, ty })?;
                }
                self.expect(Kind::In, "'in'")?;
                self.explist()?;
            }
            _ => return Err(self.cur.expected("'=' or 'in'")),
        }
        self.expect(Kind::Do, "'do'")?;
        self.scope.reveal(mark);
        self.block()?;
        self.close(Kind::End, open)?;
        self.scope.close(mark);
        Ok(())
    }

    /// `function a.b.c:m<T>(…) … end`.
    fn function_statement(&mut self) -> Result<()> {
        let open = self.cur.tok;
        self.cur.advance();
        self.name()?;
        while self.cur.kind() == Kind::Dot {
            self.cur.advance();
            self.name()?;
        }
        let method = self.cur.kind() == Kind::Colon;
        if method {
            self.cur.advance();
            self.name()?;
        }
        self.body(open, method)
    }

    /// `local a <attr>: T, b: U <attr> = explist` (after `local`).
    #[inline(never)]
    fn local_statement(&mut self) -> Result<()> {
        let mark = self.scope.mark();
        loop {
            self.declared_name(|name, ty| SiteKind::Local { name, ty })?;
            if self.cur.kind() != Kind::Comma {
                break;
            }
            self.cur.advance();
        }
        if self.cur.kind() == Kind::Assign {
            self.cur.advance();
            self.explist()?;
        }
        self.scope.reveal(mark);
        Ok(())
    }

    /// A declared name with its attribute and annotation (pending in the scope).
    fn declared_name(&mut self, site: VarSite) -> Result<()> {
        let at = self.cur.tok;
        let name = self.name()?;
        self.attribute()?;
        let annotation = self.annotation(at, site)?;
        if annotation.is_some() {
            self.attribute()?;
        }
        self.scope.declare(name, annotation, true);
        Ok(())
    }

    /// `<const>` / `<close>`, if there.
    fn attribute(&mut self) -> Result<()> {
        if self.cur.kind() != Kind::Lt {
            return Ok(());
        }
        self.cur.advance();
        self.name()?;
        if !matches!(self.cur.kind(), Kind::Gt | Kind::Ge | Kind::Shr) {
            return Err(self.cur.expected("'>' to end the attribute"));
        }
        self.cur.split_gt();
        self.cur.advance();
        Ok(())
    }

    /// `: T` after the declared name `at`, if there: erased, and returned for the scope.
    fn annotation(&mut self, at: Token, site: VarSite) -> Result<Option<Annotation>> {
        if self.cur.kind() != Kind::Colon {
            return Ok(None);
        }
        self.typed_annotation(at, site).map(Some)
    }

    /// [`Parser::annotation`] at its `:`.
    #[inline(never)]
    fn typed_annotation(&mut self, at: Token, site: VarSite) -> Result<Annotation> {
        self.typed = true;
        let colon = self.cur.tok;
        self.cur.advance();
        let first = self.cur.tok;
        let ty = types::type_after(&mut self.cur, ":")?;
        let end = self.cur.prev_end;
        self.edits.push(Edit::Blank(colon.start, end));
        let name = self.cur.text(at);
        self.site(at, || site(name.to_string(), ty.clone()));
        Ok(Annotation {
            first,
            end,
            ty,
            generics: self.generics.len(),
        })
    }

    /// A function's body from its generics to its `end` (`open` is the `function`).
    #[inline(never)]
    fn body(&mut self, open: Token, method: bool) -> Result<()> {
        let mark = self.scope.mark();
        let generics_mark = self.generics.len();
        if self.cur.kind() == Kind::Lt {
            self.function_generics()?;
        }
        let paren = self.cur.tok;
        self.expect(Kind::LParen, "'(' to start the parameters")?;
        if method {
            self.scope.declare("self", None, false);
        }
        while self.cur.kind() != Kind::RParen {
            let at = self.cur.tok;
            let name = match at.kind {
                Kind::Dots | Kind::Name => self.cur.text(at),
                _ => return Err(self.cur.expected("a parameter name")),
            };
            self.cur.advance();
            let annotation = self.annotation(at, |name, ty| SiteKind::Param { name, ty })?;
            self.scope.declare(name, annotation, false);
            if at.kind == Kind::Dots || self.cur.kind() != Kind::Comma {
                break;
            }
            self.cur.advance();
        }
        self.close(Kind::RParen, paren)?;
        if self.cur.kind() == Kind::Colon {
            self.return_types()?;
        }
        self.block()?;
        self.close(Kind::End, open)?;
        self.scope.close(mark);
        self.generics.truncate(generics_mark);
        Ok(())
    }

    /// A function's generic parameters (at `<`): erased, and in scope until its `end`.
    #[inline(never)]
    fn function_generics(&mut self) -> Result<()> {
        self.typed = true;
        let lt = self.cur.tok;
        let generics = types::generics(&mut self.cur)?;
        self.edits.push(Edit::Blank(lt.start, self.cur.prev_end));
        self.generics
            .extend(generics.iter().map(|g| g.name.clone()));
        self.site(lt, || SiteKind::Generics(generics));
        Ok(())
    }

    /// A function's return types (at the `:` after its parameters): erased.
    #[inline(never)]
    fn return_types(&mut self) -> Result<()> {
        self.typed = true;
        let colon = self.cur.tok;
        self.cur.advance();
        let returns = types::returns_after(&mut self.cur, ":")?;
        self.edits.push(Edit::Blank(colon.start, self.cur.prev_end));
        self.site(colon, || SiteKind::Returns(returns));
        Ok(())
    }

    /// Whether the statement starting here is `type Name …` or `export type Name …`.
    fn at_type_declaration(&self) -> bool {
        match self.cur.text(self.cur.tok) {
            "type" => self.cur.peek().kind == Kind::Name,
            "export" => {
                let (word, name) = self.cur.peek2();
                word.kind == Kind::Name && self.cur.text(word) == "type" && name.kind == Kind::Name
            }
            _ => false,
        }
    }

    /// `[export] type Name<G> = T`: replaced by the statement defining the type value.
    #[inline(never)]
    fn type_declaration(&mut self) -> Result<()> {
        self.typed = true;
        let start = self.cur.tok;
        let exported = self.cur.is_word("export");
        if exported {
            self.cur.advance();
        }
        self.cur.advance();
        let name_tok = self.cur.tok;
        let name = self.name()?;
        let generics = if self.cur.kind() == Kind::Lt {
            types::generics(&mut self.cur)?
        } else {
            Vec::new()
        };
        self.expect(Kind::Assign, "'=' after the type's name")?;
        let ty = types::type_after(&mut self.cur, "=")?;
        let end = self.cur.prev_end;
        let decl = TypeDecl {
            name: name.to_string(),
            generics,
            ty,
            exported,
        };
        let outer: Vec<&str> = self.generics.iter().map(String::as_str).collect();
        let refs = codegen::decl_references(&decl, &outer);
        let src = self.cur.src();
        let text = codegen::one_line(src, &name_tok, end);
        let breaks = codegen::line_breaks(src.get(start.start..end).unwrap_or(""));
        let code = codegen::declaration(name, &text, &refs, &breaks);
        self.edits.push(Edit::Replace(start.start, end, code));
        self.scope.declare(name, None, false);
        self.site(start, || SiteKind::Decl(decl));
        Ok(())
    }

    /// An assignment or a call.
    fn expression_statement(&mut self) -> Result<()> {
        self.suffixed()?;
        if matches!(self.cur.kind(), Kind::Assign | Kind::Comma) {
            while self.cur.kind() == Kind::Comma {
                self.cur.advance();
                self.suffixed()?;
            }
            self.expect(Kind::Assign, "'='")?;
            self.explist()?;
        }
        Ok(())
    }

    /// `expr {',' expr}`.
    fn explist(&mut self) -> Result<()> {
        self.expr()?;
        while self.cur.kind() == Kind::Comma {
            self.cur.advance();
            self.expr()?;
        }
        Ok(())
    }

    /// An expression: operands (after unary operators) joined by binary operators.
    fn expr(&mut self) -> Result<()> {
        self.enter()?;
        loop {
            while matches!(
                self.cur.kind(),
                Kind::Not | Kind::Minus | Kind::Hash | Kind::Tilde
            ) {
                self.cur.advance();
            }
            self.simple()?;
            if !is_binary(self.cur.kind()) {
                break;
            }
            self.cur.advance();
        }
        self.levels -= 1;
        Ok(())
    }

    /// An operand, then its casts.
    fn simple(&mut self) -> Result<()> {
        match self.cur.kind() {
            Kind::Number | Kind::String | Kind::Nil | Kind::True | Kind::False | Kind::Dots => {
                self.cur.advance()
            }
            Kind::LBrace => self.table()?,
            Kind::Function => {
                let open = self.cur.tok;
                self.cur.advance();
                self.body(open, false)?;
            }
            _ => self.suffixed()?,
        }
        if matches!(self.cur.kind(), Kind::DColon | Kind::Name) {
            self.casts()?;
        }
        Ok(())
    }

    /// `:: T` and `as T` after a complete expression.
    #[inline(never)]
    fn casts(&mut self) -> Result<()> {
        loop {
            let op = match self.cur.kind() {
                Kind::DColon if !self.at_label() => "::",
                Kind::Name if self.cur.is_word("as") && self.as_is_cast() => "as",
                _ => return Ok(()),
            };
            self.typed = true;
            let start = self.cur.tok;
            self.cur.advance();
            let ty = types::type_after(&mut self.cur, op)?;
            self.edits.push(Edit::Blank(start.start, self.cur.prev_end));
            self.site(start, || SiteKind::Cast(ty));
        }
    }

    /// Whether the `::` here starts a label `::name::`.
    fn at_label(&self) -> bool {
        let (name, close) = self.cur.peek2();
        name.kind == Kind::Name && close.kind == Kind::DColon
    }

    /// Whether the `as` here (after a complete expression) is a cast (see the module doc).
    fn as_is_cast(&self) -> bool {
        match self.cur.peek().kind {
            Kind::Assign | Kind::Comma | Kind::Dot | Kind::LBracket | Kind::Colon => false,
            Kind::LParen => self.function_type_follows(),
            kind => types::starts_type(kind),
        }
    }

    /// After `as`, at `(`: whether a type's `(…)` followed by `->`, `?` or `@` comes.
    #[inline(never)]
    fn function_type_follows(&self) -> bool {
        use Kind::*;
        let mut lex = self.cur.lookahead();
        let mut depth = 0usize;
        for _ in 0..LOOKAHEAD {
            match lex.next_token().kind {
                LParen => depth += 1,
                RParen if depth <= 1 => {
                    return matches!(lex.next_token().kind, Arrow | Question | At);
                }
                RParen => depth -= 1,
                Name | Nil | True | False | Function | String | Number | Minus | LBrace
                | RBrace | LBracket | RBracket | Lt | Gt | Shr | Comma | Semi | Colon | Dot
                | Dots | Question | Pipe | Amp | Arrow | At => {}
                _ => return false,
            }
        }
        false
    }

    /// A name or a parenthesized expression, then its suffixes (`.x`, `[k]`, calls, `!`).
    fn suffixed(&mut self) -> Result<()> {
        match self.cur.kind() {
            Kind::Name => {
                if self.cur.is_word("typeof") {
                    self.typeof_call();
                }
                self.cur.advance();
            }
            Kind::LParen => {
                let open = self.cur.tok;
                self.cur.advance();
                self.expr()?;
                self.close(Kind::RParen, open)?;
            }
            _ => return Err(self.cur.expected("an expression")),
        }
        loop {
            match self.cur.kind() {
                Kind::Dot => {
                    self.cur.advance();
                    self.name()?;
                }
                Kind::LBracket => {
                    let open = self.cur.tok;
                    self.cur.advance();
                    self.expr()?;
                    self.close(Kind::RBracket, open)?;
                }
                Kind::Colon => {
                    self.cur.advance();
                    self.name()?;
                    self.call_args()?;
                }
                Kind::LParen | Kind::String | Kind::LBrace => self.call_args()?,
                Kind::Bang => self.non_nil()?,
                _ => return Ok(()),
            }
        }
    }

    /// At `typeof`: for `typeof(x)` of an annotated local, adds its type as an argument.
    #[inline(never)]
    fn typeof_call(&mut self) {
        let mut lex = self.cur.lookahead();
        let (open, arg, close) = (lex.next_token(), lex.next_token(), lex.next_token());
        if open.kind != Kind::LParen || arg.kind != Kind::Name || close.kind != Kind::RParen {
            return;
        }
        let Some(annotation) = self.scope.lookup(self.cur.text(arg)) else {
            return;
        };
        let generics: Vec<&str> = self
            .generics
            .iter()
            .take(annotation.generics)
            .map(String::as_str)
            .collect();
        let refs = codegen::references(&annotation.ty, &generics);
        let text = codegen::one_line(self.cur.src(), &annotation.first, annotation.end);
        self.typed = true;
        self.edits.push(Edit::Replace(
            close.start,
            close.start,
            codegen::typeof_argument(&text, &refs),
        ));
    }

    /// Postfix `!` (non-nil assertion): erased.
    #[inline(never)]
    fn non_nil(&mut self) -> Result<()> {
        self.typed = true;
        let bang = self.cur.tok;
        let next = self.cur.peek();
        if next.kind == Kind::Assign && next.start == bang.end {
            return Err(self.cur.error("'!=' is not Lua: not-equal is '~='"));
        }
        self.edits.push(Edit::Blank(bang.start, bang.end));
        self.site(bang, || SiteKind::NonNil);
        self.cur.advance();
        Ok(())
    }

    /// A call's arguments: `(…)`, a table or a string.
    fn call_args(&mut self) -> Result<()> {
        match self.cur.kind() {
            Kind::String => self.cur.advance(),
            Kind::LBrace => self.table()?,
            _ => {
                let open = self.cur.tok;
                self.expect(Kind::LParen, "function arguments")?;
                if self.cur.kind() != Kind::RParen {
                    self.explist()?;
                }
                self.close(Kind::RParen, open)?;
            }
        }
        Ok(())
    }

    /// A table constructor.
    fn table(&mut self) -> Result<()> {
        let open = self.cur.tok;
        self.cur.advance();
        while self.cur.kind() != Kind::RBrace {
            if self.cur.kind() == Kind::LBracket {
                let bracket = self.cur.tok;
                self.cur.advance();
                self.expr()?;
                self.close(Kind::RBracket, bracket)?;
                self.expect(Kind::Assign, "'='")?;
                self.expr()?;
            } else {
                self.expr()?;
                if self.cur.kind() == Kind::Assign {
                    self.cur.advance();
                    self.expr()?;
                }
            }
            if !matches!(self.cur.kind(), Kind::Comma | Kind::Semi) {
                break;
            }
            self.cur.advance();
        }
        self.close(Kind::RBrace, open)
    }

    /// A name (consumed), or the error.
    fn name(&mut self) -> Result<&'s str> {
        if self.cur.kind() != Kind::Name {
            return Err(self.cur.expected("a name"));
        }
        let text = self.cur.text(self.cur.tok);
        self.cur.advance();
        Ok(text)
    }

    /// Consumes a token of `kind`, or fails saying `what` was expected.
    fn expect(&mut self, kind: Kind, what: &str) -> Result<()> {
        if self.cur.kind() != kind {
            return Err(self.cur.expected(what));
        }
        self.cur.advance();
        Ok(())
    }

    /// Consumes the `kind` closing what `open` opened, or fails saying so.
    fn close(&mut self, kind: Kind, open: Token) -> Result<()> {
        if self.cur.kind() == kind {
            self.cur.advance();
            return Ok(());
        }
        let closer = match kind {
            Kind::End => "'end'",
            Kind::Until => "'until'",
            Kind::RParen => "')'",
            Kind::RBracket => "']'",
            _ => "'}'",
        };
        let what = format!(
            "{closer} (to close {} at line {})",
            self.cur.describe(open),
            open.line
        );
        Err(self.cur.expected(&what))
    }

    /// One nesting level deeper, or the error past [`MAX_LEVELS`].
    fn enter(&mut self) -> Result<()> {
        self.levels += 1;
        if self.levels > MAX_LEVELS {
            return Err(self.cur.error(format!(
                "too many nested syntax levels (more than {MAX_LEVELS})"
            )));
        }
        Ok(())
    }

    /// Records a site at `at` (only when sites are kept).
    fn site(&mut self, at: Token, kind: impl FnOnce() -> SiteKind) {
        if let Some(sites) = &mut self.sites {
            let (line, column) = self.cur.position(at);
            sites.push(Site {
                line,
                column,
                kind: kind(),
            });
        }
    }
}

/// Whether a token is a binary operator.
fn is_binary(kind: Kind) -> bool {
    use Kind::*;
    matches!(
        kind,
        Plus | Minus
            | Star
            | Slash
            | DSlash
            | Percent
            | Caret
            | Concat
            | Eq
            | Ne
            | Lt
            | Le
            | Gt
            | Ge
            | And
            | Or
            | Amp
            | Pipe
            | Tilde
            | Shl
            | Shr
    )
}
