//! The type parser: recursive descent over the [`Cursor`]'s tokens, building a [`Type`].
//!
//! Grammar (loosest first):
//! ```text
//! type     := ['|' | '&'] inter ('|' inter)*
//! inter    := postfix ('&' postfix)*
//! postfix  := primary ('?' | '@' validator)*
//! primary  := 'nil' | 'true' | 'false' | String | ['-'] Number | 'function'
//!           | Name ('.' Name)* ['<' type (',' type)* '>']
//!           | '{' '}' | '{' type [sep] '}' | '{' '[' type ']' ':' type [sep] '}'
//!           | '{' field (sep field)* [sep] '}'
//!           | ['<' generics '>'] '(' params ')' '->' returns
//!           | '(' type ')'
//! field    := ['readonly' | 'read' | 'write'] word ['?'] ':' type
//! params   := [param (',' param)*] [',' '...' [':'] type] | '...' [':'] type
//! param    := [Name ':'] type
//! returns  := type | '(' [type (',' type)*] ')'
//! generics := Name [':' type] (',' Name [':' type])*
//! ```
//! Field modifiers: `readonly name: T` (and Luau's `read name: T`) is a readonly field,
//! Luau's `write name: T` a plain one. A leading `|` or `&` is allowed (multi-line unions).
//! A `Name` followed by `<const>` or `<close>` takes no type arguments: that is a local's
//! attribute (`local x: number <const> = 1`). Nesting (brackets and postfix wrappers) is
//! limited to [`MAX_DEPTH`], so no input can exhaust the stack.

use crate::ast::{Field, FuncType, Generic, Literal, Named, Type, TypeDecl};
use crate::error::Result;
use crate::lex::{Cursor, Kind, Token};
use crate::validators::validators;
use crate::values::{self, Number};

/// How deep brackets (`{`, `(`, `<`) and postfix wrappers (`?`, validators) may nest.
const MAX_DEPTH: u32 = 100;

/// The parser of one type expression (a fresh one per annotation).
pub(crate) struct TypeParser<'c, 's> {
    cur: &'c mut Cursor<'s>,
    depth: u32,
}

/// A parenthesized list that is not followed by `->`.
struct ParenList {
    open: Token,
    params: Vec<Type>,
    variadic: bool,
    named: bool,
}

/// What `(…)` turned out to be.
enum Paren {
    /// A function type.
    Func(FuncType),
    /// A plain list (a parenthesized type, or a pack of return types).
    List(ParenList),
}

/// Parses a type expression: the whole of `text`.
pub fn parse_type(text: &str) -> Result<Type> {
    let mut cur = Cursor::new(text);
    if !starts_type(cur.kind()) {
        return Err(cur.expected("a type"));
    }
    let ty = TypeParser {
        cur: &mut cur,
        depth: 0,
    }
    .ty()?;
    end_of_text(&cur)?;
    Ok(ty)
}

/// Parses a declaration's text `[Name [<G>]] = T` (as the erased code passes it to
/// `__weft_type`); the name is empty in the anonymous form `= T`, `exported` is false.
pub fn parse_decl(text: &str) -> Result<TypeDecl> {
    let mut cur = Cursor::new(text);
    let mut name = String::new();
    let mut params = Vec::new();
    if cur.kind() == Kind::Name {
        name = cur.text(cur.tok).to_string();
        cur.advance();
        if cur.kind() == Kind::Lt {
            params = generics(&mut cur)?;
        }
    }
    if cur.kind() != Kind::Assign {
        let what = if name.is_empty() {
            "a type name or '='"
        } else {
            "'=' after the type's name"
        };
        return Err(cur.expected(what));
    }
    cur.advance();
    let ty = type_after(&mut cur, "=")?;
    end_of_text(&cur)?;
    Ok(TypeDecl {
        name,
        generics: params,
        ty,
        exported: false,
    })
}

/// Parses the type at the cursor, which must start one; `after` names what precedes it.
pub(crate) fn type_after(cur: &mut Cursor, after: &str) -> Result<Type> {
    check_start(cur, after)?;
    TypeParser { cur, depth: 0 }.ty()
}

/// Parses the return types at the cursor (`T` or `(A, B)`); `after` names what precedes.
pub(crate) fn returns_after(cur: &mut Cursor, after: &str) -> Result<Vec<Type>> {
    check_start(cur, after)?;
    TypeParser { cur, depth: 0 }.returns()
}

/// Parses a generic parameter list at the cursor (at `<`).
pub(crate) fn generics(cur: &mut Cursor) -> Result<Vec<Generic>> {
    TypeParser { cur, depth: 0 }.generics()
}

/// Whether a token can start a type.
pub(crate) fn starts_type(kind: Kind) -> bool {
    use Kind::*;
    matches!(
        kind,
        Name | Nil
            | True
            | False
            | Function
            | String
            | Number
            | Minus
            | LBrace
            | LParen
            | Lt
            | Pipe
            | Amp
    )
}

impl<'c, 's> TypeParser<'c, 's> {
    /// A full type: a union of intersections of postfix types.
    #[inline(never)]
    fn ty(&mut self) -> Result<Type> {
        if matches!(self.cur.kind(), Kind::Pipe | Kind::Amp) {
            self.cur.advance();
        }
        let operand = self.operand()?;
        self.union(operand)
    }

    /// A primary type and its postfix operators.
    fn operand(&mut self) -> Result<Type> {
        let primary = self.primary()?;
        self.postfix(primary)
    }

    /// The rest of a union of intersections (`&` binds tighter) after its first operand.
    /// Kept out of [`TypeParser::ty`], so a nested type costs a small frame there.
    #[inline(never)]
    fn union(&mut self, first: Type) -> Result<Type> {
        if !matches!(self.cur.kind(), Kind::Amp | Kind::Pipe) {
            return Ok(first);
        }
        let mut operand = first;
        let mut members = Vec::new();
        let mut parts = Vec::new();
        loop {
            let op = self.cur.kind();
            if op != Kind::Amp && op != Kind::Pipe {
                break;
            }
            self.cur.advance();
            parts.push(operand);
            if op == Kind::Pipe {
                members.push(joined(std::mem::take(&mut parts), Type::Intersection));
            }
            operand = self.operand()?;
        }
        parts.push(operand);
        members.push(joined(parts, Type::Intersection));
        Ok(joined(members, Type::Union))
    }

    /// `?` and validators after a type.
    #[inline(never)]
    fn postfix(&mut self, mut ty: Type) -> Result<Type> {
        let mut wraps = 0;
        loop {
            match self.cur.kind() {
                Kind::Question => {
                    self.cur.advance();
                    if !matches!(ty, Type::Optional(_)) {
                        ty = Type::Optional(Box::new(ty));
                    }
                }
                Kind::At => {
                    let found = validators(self.cur, &ty)?;
                    ty = match ty {
                        Type::Validated(inner, mut list) => {
                            list.extend(found);
                            Type::Validated(inner, list)
                        }
                        other => Type::Validated(Box::new(other), found),
                    };
                }
                _ => return Ok(ty),
            }
            wraps += 1;
            if self.depth + wraps > MAX_DEPTH {
                return Err(self.too_deep());
            }
        }
    }

    /// A type without postfix operators.
    #[inline(never)]
    fn primary(&mut self) -> Result<Type> {
        match self.cur.kind() {
            Kind::Name => self.named(),
            Kind::LBrace => self.table(),
            Kind::LParen | Kind::Lt => self.parenthesized(),
            _ => self.literal(),
        }
    }

    /// A literal type, `nil` or `function`.
    #[inline(never)]
    fn literal(&mut self) -> Result<Type> {
        let tok = self.cur.tok;
        let ty = match tok.kind {
            Kind::Nil => Type::Nil,
            Kind::True => Type::Literal(Literal::Boolean(true)),
            Kind::False => Type::Literal(Literal::Boolean(false)),
            Kind::Function => Type::Function,
            Kind::String => {
                let bytes = values::string(self.cur.text(tok))
                    .map_err(|problem| self.cur.error(format!("{problem} in a literal type")))?;
                Type::Literal(Literal::String(bytes))
            }
            Kind::Number => self.number_literal(false)?,
            Kind::Minus => {
                self.cur.advance();
                if self.cur.kind() != Kind::Number {
                    return Err(self.cur.expected("a number after '-' in a literal type"));
                }
                self.number_literal(true)?
            }
            _ => return Err(self.cur.expected("a type")),
        };
        self.cur.advance();
        Ok(ty)
    }

    /// A function type (maybe generic) or a parenthesized type.
    #[inline(never)]
    fn parenthesized(&mut self) -> Result<Type> {
        let generics = if self.cur.kind() == Kind::Lt {
            self.generics()?
        } else {
            Vec::new()
        };
        let generic = !generics.is_empty();
        match self.paren(generics)? {
            Paren::Func(func) => Ok(Type::Func(func)),
            Paren::List(list) if generic => Err(self.cur.error_at(list.open, "expected a function type after its generic parameters")),
            Paren::List(mut list) => match list.params.pop() {
                Some(only) if list.params.is_empty() && !list.named && !list.variadic => Ok(only),
                _ => Err(self.cur.error_at(
                    list.open,
                    "expected '->' after this parameter list (parentheses hold one type unless they are a function type's parameters)",
                )),
            },
        }
    }

    /// A numeral literal type at the cursor (not consumed), negated after a `-`.
    #[inline(never)]
    fn number_literal(&mut self, negative: bool) -> Result<Type> {
        let value = values::number(self.cur.text(self.cur.tok))
            .ok_or_else(|| self.cur.error("a malformed number in a literal type"))?;
        let value = if negative { value.negate() } else { value };
        Ok(Type::Literal(match value {
            Number::Int(i) => Literal::Integer(i),
            Number::Float(f) => Literal::Number(f),
        }))
    }

    /// A name: a built-in type, or a (dotted) name with optional type arguments.
    #[inline(never)]
    fn named(&mut self) -> Result<Type> {
        let first = self.cur.tok;
        let mut path = vec![self.cur.text(first).to_string()];
        self.cur.advance();
        while self.cur.kind() == Kind::Dot {
            self.cur.advance();
            if self.cur.kind() != Kind::Name {
                return Err(self.cur.expected("a name after '.' in a type name"));
            }
            path.push(self.cur.text(self.cur.tok).to_string());
            self.cur.advance();
        }
        let args = if self.cur.kind() == Kind::Lt && !self.at_attribute() {
            self.type_args()?
        } else {
            Vec::new()
        };
        if let [name] = path.as_slice()
            && let Some(ty) = builtin(name)
        {
            if !args.is_empty() {
                return Err(self.cur.error_at(
                    first,
                    format!("built-in type '{name}' takes no type arguments"),
                ));
            }
            return Ok(ty);
        }
        Ok(Type::Named(Named { path, args }))
    }

    /// Whether the cursor is at a local's attribute `<const>` / `<close>`.
    fn at_attribute(&self) -> bool {
        let (name, close) = self.cur.peek2();
        name.kind == Kind::Name
            && matches!(self.cur.text(name), "const" | "close")
            && close.kind == Kind::Gt
    }

    /// `<A, B>` after a name.
    #[inline(never)]
    fn type_args(&mut self) -> Result<Vec<Type>> {
        self.enter()?;
        let open = self.cur.tok;
        self.cur.advance();
        let mut args = Vec::new();
        loop {
            args.push(self.ty_started("a type argument")?);
            match self.cur.kind() {
                Kind::Comma => self.cur.advance(),
                Kind::Gt | Kind::Shr | Kind::Ge => {
                    self.close_angle();
                    break;
                }
                _ => return Err(self.unclosed(open, "type argument list", "'>'")),
            }
        }
        self.depth -= 1;
        Ok(args)
    }

    /// `<T, U: Constraint>` (at `<`).
    #[inline(never)]
    fn generics(&mut self) -> Result<Vec<Generic>> {
        self.enter()?;
        let open = self.cur.tok;
        self.cur.advance();
        let mut list = Vec::new();
        loop {
            if self.cur.kind() != Kind::Name {
                return Err(self.cur.expected("a generic parameter name"));
            }
            let name = self.cur.text(self.cur.tok).to_string();
            self.cur.advance();
            let constraint = if self.cur.kind() == Kind::Colon {
                self.cur.advance();
                Some(self.ty_started("a constraint after ':'")?)
            } else {
                None
            };
            list.push(Generic { name, constraint });
            match self.cur.kind() {
                Kind::Comma => self.cur.advance(),
                Kind::Gt | Kind::Shr | Kind::Ge => {
                    self.close_angle();
                    break;
                }
                _ => return Err(self.unclosed(open, "generic parameter list", "'>'")),
            }
        }
        self.depth -= 1;
        Ok(list)
    }

    /// A table type: `{}`, `{T}`, `{[K]: V}` or a record (at `{`).
    #[inline(never)]
    fn table(&mut self) -> Result<Type> {
        self.enter()?;
        let open = self.cur.tok;
        self.cur.advance();
        let ty = match self.cur.kind() {
            Kind::RBrace => Type::Record(Vec::new()),
            Kind::LBracket => {
                self.cur.advance();
                let key = self.ty_started("a key type after '['")?;
                self.expect(Kind::RBracket, "']' after the key type")?;
                self.expect(Kind::Colon, "':' after the map's key type")?;
                let value = self.ty_started("a value type after ':'")?;
                self.separator();
                Type::Map(Box::new(key), Box::new(value))
            }
            _ if self.at_field() => self.fields()?,
            _ => {
                let element = self.ty_started("a type")?;
                self.separator();
                Type::Array(Box::new(element))
            }
        };
        if self.cur.kind() != Kind::RBrace {
            return Err(self.unclosed(open, "table type", "'}'"));
        }
        self.cur.advance();
        self.depth -= 1;
        Ok(ty)
    }

    /// Whether the cursor is at a record field: `name:`, `name?:`, `readonly name`.
    fn at_field(&self) -> bool {
        if !is_word(self.cur.kind()) {
            return false;
        }
        let (next, after) = self.cur.peek2();
        next.kind == Kind::Colon
            || (next.kind == Kind::Question && after.kind == Kind::Colon)
            || (self.at_modifier() && is_word(next.kind))
    }

    /// Whether the current token is an access modifier: `readonly`, `read` or `write`.
    fn at_modifier(&self) -> bool {
        self.cur.is_word("readonly") || self.cur.is_word("read") || self.cur.is_word("write")
    }

    /// A record's fields, up to (not including) `}`.
    #[inline(never)]
    fn fields(&mut self) -> Result<Type> {
        let mut fields = Vec::new();
        loop {
            let mut readonly = false;
            if self.at_modifier() && is_word(self.cur.peek().kind) {
                readonly = !self.cur.is_word("write");
                self.cur.advance();
            }
            if !is_word(self.cur.kind()) {
                return Err(self.cur.expected("a field name"));
            }
            let name = self.cur.text(self.cur.tok).to_string();
            self.cur.advance();
            let optional = self.cur.kind() == Kind::Question;
            if optional {
                self.cur.advance();
            }
            self.expect(Kind::Colon, "':' after the field name")?;
            let ty = self.ty_started("a type after ':'")?;
            fields.push(Field {
                name,
                ty,
                optional,
                readonly,
            });
            if !self.separator() || self.cur.kind() == Kind::RBrace {
                return Ok(Type::Record(fields));
            }
        }
    }

    /// `(…)` and what follows: a function type when `->` follows (or `generics` were given).
    #[inline(never)]
    fn paren(&mut self, generics: Vec<Generic>) -> Result<Paren> {
        self.enter()?;
        let open = self.cur.tok;
        self.cur.advance();
        let mut params = Vec::new();
        let mut variadic = None;
        let mut named = false;
        while self.cur.kind() != Kind::RParen {
            if self.cur.kind() == Kind::Dots {
                self.cur.advance();
                if self.cur.kind() == Kind::Colon {
                    self.cur.advance();
                }
                let ty = if self.cur.kind() == Kind::RParen {
                    Type::Any
                } else {
                    self.ty_started("the variadic type")?
                };
                variadic = Some(Box::new(ty));
                break;
            }
            if self.cur.kind() == Kind::Name && self.cur.peek().kind == Kind::Colon {
                self.cur.advance();
                self.cur.advance();
                named = true;
            }
            params.push(self.ty_started("a parameter type")?);
            if self.cur.kind() != Kind::Comma {
                break;
            }
            self.cur.advance();
        }
        if self.cur.kind() != Kind::RParen {
            return Err(self.unclosed(open, "parameter list", "')'"));
        }
        self.cur.advance();
        let paren = if self.cur.kind() == Kind::Arrow {
            self.cur.advance();
            if !starts_type(self.cur.kind()) {
                return Err(self.cur.expected("a return type after '->'"));
            }
            let returns = self.returns()?;
            Paren::Func(FuncType {
                generics,
                params,
                variadic,
                returns,
            })
        } else if !generics.is_empty() {
            return Err(self
                .cur
                .expected("'->' after a generic function type's parameters"));
        } else {
            Paren::List(ParenList {
                open,
                params,
                variadic: variadic.is_some(),
                named,
            })
        };
        self.depth -= 1;
        Ok(paren)
    }

    /// Return types: `T`, `(A, B)`, `()`, or a function type.
    #[inline(never)]
    fn returns(&mut self) -> Result<Vec<Type>> {
        if self.cur.kind() != Kind::LParen {
            return Ok(vec![self.ty()?]);
        }
        match self.paren(Vec::new())? {
            Paren::Func(func) => {
                let func = self.postfix(Type::Func(func))?;
                Ok(vec![self.union(func)?])
            }
            Paren::List(list) if list.named => Err(self
                .cur
                .error_at(list.open, "expected '->' after this parameter list")),
            Paren::List(list) if list.variadic => Err(self
                .cur
                .error_at(list.open, "variadic return types ('...') are not supported")),
            Paren::List(mut list) => {
                let continues = matches!(
                    self.cur.kind(),
                    Kind::Question | Kind::At | Kind::Pipe | Kind::Amp
                );
                match list.params.pop() {
                    Some(only) if continues && list.params.is_empty() => {
                        let only = self.postfix(only)?;
                        Ok(vec![self.union(only)?])
                    }
                    Some(last) => {
                        list.params.push(last);
                        Ok(list.params)
                    }
                    None => Ok(list.params),
                }
            }
        }
    }

    /// A full type where one must start (`what` says which, for the message).
    fn ty_started(&mut self, what: &str) -> Result<Type> {
        if !starts_type(self.cur.kind()) {
            return Err(self.cur.expected(what));
        }
        self.ty()
    }

    /// Consumes a `,` or `;` if there is one.
    fn separator(&mut self) -> bool {
        let found = matches!(self.cur.kind(), Kind::Comma | Kind::Semi);
        if found {
            self.cur.advance();
        }
        found
    }

    /// Consumes a token of `kind`, or fails saying `what` was expected.
    fn expect(&mut self, kind: Kind, what: &str) -> Result<()> {
        if self.cur.kind() != kind {
            return Err(self.cur.expected(what));
        }
        self.cur.advance();
        Ok(())
    }

    /// Consumes the `>` closing a list (the first half of `>>` or `>=`).
    fn close_angle(&mut self) {
        self.cur.split_gt();
        self.cur.advance();
    }

    /// One level deeper, or the error past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(())
    }

    /// The error for a type nested past [`MAX_DEPTH`].
    fn too_deep(&self) -> crate::SyntaxError {
        self.cur.error(format!(
            "type nested too deeply (more than {MAX_DEPTH} levels)"
        ))
    }

    /// The error for a list opened at `open` and not closed by `closer`.
    fn unclosed(&self, open: Token, what: &str, closer: &str) -> crate::SyntaxError {
        let (line, column) = self.cur.position(open);
        let found = self.cur.describe(self.cur.tok);
        self.cur.error(format!("unterminated {what}, expected {closer} (to close the one at {line}:{column}), found {found}"))
    }
}

/// Fails unless the cursor is at the end of the text.
fn end_of_text(cur: &Cursor) -> Result<()> {
    if cur.kind() == Kind::Eof {
        return Ok(());
    }
    Err(cur.expected("the end of the type"))
}

/// Fails unless the cursor is at the start of a type.
fn check_start(cur: &Cursor, after: &str) -> Result<()> {
    if starts_type(cur.kind()) {
        return Ok(());
    }
    Err(cur.error(format!(
        "expected a type after '{after}', found {}",
        cur.describe(cur.tok)
    )))
}

/// The single type of `types`, or `combine` of them all.
fn joined(mut types: Vec<Type>, combine: fn(Vec<Type>) -> Type) -> Type {
    match types.pop() {
        Some(only) if types.is_empty() => only,
        Some(last) => {
            types.push(last);
            combine(types)
        }
        None => combine(types),
    }
}

/// Whether a token is a word (a name or a keyword): a record field's name.
fn is_word(kind: Kind) -> bool {
    kind == Kind::Name || kind.is_keyword()
}

/// A built-in type's name to its type (`nil` and `function` are keywords, not names).
fn builtin(name: &str) -> Option<Type> {
    Some(match name {
        "any" => Type::Any,
        "unknown" => Type::Unknown,
        "never" => Type::Never,
        "boolean" => Type::Boolean,
        "number" => Type::Number,
        "integer" => Type::Integer,
        "string" => Type::String,
        "table" => Type::Table,
        "thread" | "userdata" | "error" => Type::Primitive(name.to_string()),
        _ => return None,
    })
}
