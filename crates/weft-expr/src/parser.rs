//! The parser: tokens to a [`Node`] tree, by precedence climbing with expr-lang's table
//! (`or` 10, `and` 15, comparisons and `in`/`matches`/… 20, `+ -` 30, `* / %` 60,
//! `**`/`^` 100 right-associative, `??` 500; unary `not`/`!` 50, `-`/`+` 90; `?:` lowest).
//!
//! Every node records its height as it is built and the recursion is counted, so an
//! expression deeper than [`MAX_DEPTH`] or larger than [`MAX_NODES`] is a syntax error
//! before anything deep exists. Literal regexes (`matches "^a"`) are compiled here and
//! lists or maps of literals become one constant.

use std::collections::BTreeSet;

use regex::bytes::{Regex, RegexBuilder};
use weft_core::{Map, Value};

use crate::builtins::{self, Builtin, Func, Pred};
use crate::lexer::{Tok, Token, tokenize};
use crate::{Error, MAX_DEPTH, MAX_NODES};

/// The most memory one compiled regex may take (also for patterns built at run time).
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// An expression tree.
#[derive(Debug)]
pub(crate) enum Node {
    /// A constant.
    Lit(Value),
    /// A variable.
    Var(Box<str>),
    /// `name.k1.k2…`: a variable and the keys fetched from it.
    Path(Box<str>, Box<[Box<str>]>),
    /// `#`: the element a predicate is looking at.
    Elem,
    /// `#index`: its index.
    ElemIndex,
    /// `[a, b]` with a computed item.
    List(Box<[Node]>),
    /// `{k: v}` with a computed value.
    Dict(Box<[(Box<str>, Node)]>),
    /// `x.k`, or `x?.k` (optional: nil stays nil).
    Member(Box<Node>, Box<str>, bool),
    /// `x[i]`, or `x?.[i]` (optional).
    Index(Box<Node>, Box<Node>, bool),
    /// `not x` / `!x`.
    Not(Box<Node>),
    /// `-x`.
    Neg(Box<Node>),
    /// `+x`.
    Plus(Box<Node>),
    /// `a or b` (short-circuit).
    Or(Box<Node>, Box<Node>),
    /// `a and b` (short-circuit).
    And(Box<Node>, Box<Node>),
    /// `a ?? b`: `b` only when `a` is nil.
    Coalesce(Box<Node>, Box<Node>),
    /// A binary operator that evaluates both sides.
    Binary(Op, Box<Node>, Box<Node>),
    /// `x matches "literal"`, the regex compiled at parse.
    Matches(Box<Node>, Box<Regex>),
    /// `c ? a : b`.
    Cond(Box<Node>, Box<Node>, Box<Node>),
    /// A builtin function call.
    Call(Func, Box<[Node]>),
    /// `max(…)` (true) or `min(…)` (false).
    Extreme(bool, Box<[Node]>),
    /// A builtin taking a list and a predicate (`all(list, # > 1)`).
    Pred(Pred, Box<Node>, Option<Box<Node>>),
}

/// A binary operator token: a short-circuit one, or one of [`Op`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bin {
    Or,
    And,
    Coalesce,
    Op(Op),
}

/// Binary operators that evaluate both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `in`.
    In,
    /// `contains`.
    Contains,
    /// `startsWith`.
    StartsWith,
    /// `endsWith`.
    EndsWith,
    /// `matches` with a computed pattern.
    Matches,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `**`, `^`.
    Pow,
}

/// A parsed expression: its tree and the variables it reads.
pub(crate) type Parsed = (Node, Box<[Box<str>]>);

/// Parses `src`: the tree and the variables it reads.
pub(crate) fn parse(src: &str) -> Result<Parsed, Error> {
    if src.trim().is_empty() {
        return Err(Error::syntax("empty expression", src, 0));
    }
    let mut p = Parser {
        src,
        tokens: tokenize(src)?,
        pos: 0,
        depth: 0,
        nodes: 0,
        preds: 0,
        vars: BTreeSet::new(),
    };
    let root = p.expr(0)?;
    if p.peek() != &Tok::End {
        return Err(p.unexpected());
    }
    Ok((root.node, p.vars.into_iter().collect()))
}

/// A parsed subtree and its height.
struct Sub {
    node: Node,
    height: usize,
}

/// A unary operator.
#[derive(Clone, Copy)]
enum Unary {
    Not,
    Neg,
    Plus,
}

/// What a binary operator token is.
struct BinTok {
    op: Bin,
    prec: u16,
    right_assoc: bool,
    /// Tokens it spans (2 for `not in`, `not matches`, …).
    width: usize,
    /// `not in` and friends: the result is negated.
    negate: bool,
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    /// Current recursion depth of [`Parser::expr`].
    depth: usize,
    /// Nodes built so far.
    nodes: usize,
    /// How many predicates enclose the current position (`#` is valid inside one).
    preds: usize,
    vars: BTreeSet<Box<str>>,
}

impl Parser<'_> {
    /// An expression whose binary operators bind at least as tightly as `min`.
    fn expr(&mut self, min: u16) -> Result<Sub, Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep());
        }
        let result = self.binary_chain(min);
        self.depth -= 1;
        result
    }

    fn binary_chain(&mut self, min: u16) -> Result<Sub, Error> {
        let mut left = self.unary()?;
        while let Some(bin) = self.binary_op()? {
            if bin.prec < min {
                break;
            }
            let at = self.at();
            self.pos += bin.width;
            let right = self.expr(if bin.right_assoc {
                bin.prec
            } else {
                bin.prec + 1
            })?;
            left = self.binary(bin.op, left, right, at)?;
            if bin.negate {
                left = self.make(|n| Node::Not(Box::new(n)), left)?;
            }
        }
        if min == 0 && self.peek() == &Tok::Punct("?") {
            self.pos += 1;
            return self.ternary(left);
        }
        Ok(left)
    }

    /// The `a : b` of `cond ? a : b` (the `?` is consumed).
    fn ternary(&mut self, cond: Sub) -> Result<Sub, Error> {
        let yes = self.expr(0)?;
        self.expect(":")?;
        let no = self.expr(0)?;
        let height = 1 + cond.height.max(yes.height).max(no.height);
        let node = Node::Cond(Box::new(cond.node), Box::new(yes.node), Box::new(no.node));
        self.sub(node, height)
    }

    /// The binary operator at the current token, if any.
    fn binary_op(&self) -> Result<Option<BinTok>, Error> {
        let bin = |op, prec| {
            Some(BinTok {
                op,
                prec,
                right_assoc: false,
                width: 1,
                negate: false,
            })
        };
        Ok(match self.peek() {
            Tok::Punct(p) => match *p {
                "||" => bin(Bin::Or, 10),
                "&&" => bin(Bin::And, 15),
                "==" => bin(Bin::Op(Op::Eq), 20),
                "!=" => bin(Bin::Op(Op::Ne), 20),
                "<" => bin(Bin::Op(Op::Lt), 20),
                ">" => bin(Bin::Op(Op::Gt), 20),
                "<=" => bin(Bin::Op(Op::Le), 20),
                ">=" => bin(Bin::Op(Op::Ge), 20),
                "+" => bin(Bin::Op(Op::Add), 30),
                "-" => bin(Bin::Op(Op::Sub), 30),
                "*" => bin(Bin::Op(Op::Mul), 60),
                "/" => bin(Bin::Op(Op::Div), 60),
                "%" => bin(Bin::Op(Op::Mod), 60),
                "**" | "^" => Some(BinTok {
                    op: Bin::Op(Op::Pow),
                    prec: 100,
                    right_assoc: true,
                    width: 1,
                    negate: false,
                }),
                "??" => bin(Bin::Coalesce, 500),
                ".." => return Err(self.error("ranges (`..`) are not supported")),
                "|" => return Err(self.error("pipes (`|`) are not supported")),
                _ => None,
            },
            Tok::Ident(w) => match w.as_str() {
                "or" => bin(Bin::Or, 10),
                "and" => bin(Bin::And, 15),
                "not" => match self.tok_at(1) {
                    Some(Tok::Ident(next)) => word_op(next).map(|op| BinTok {
                        op: Bin::Op(op),
                        prec: 20,
                        right_assoc: false,
                        width: 2,
                        negate: true,
                    }),
                    _ => None,
                },
                other => word_op(other).and_then(|op| bin(Bin::Op(op), 20)),
            },
            _ => None,
        })
    }

    /// Builds `left op right`; a `matches` with a literal pattern compiles it now.
    fn binary(&mut self, bin: Bin, left: Sub, right: Sub, at: usize) -> Result<Sub, Error> {
        let height = 1 + left.height.max(right.height);
        let (l, r) = (Box::new(left.node), Box::new(right.node));
        let node = match bin {
            Bin::Or => Node::Or(l, r),
            Bin::And => Node::And(l, r),
            Bin::Coalesce => Node::Coalesce(l, r),
            Bin::Op(Op::Matches) => match *r {
                Node::Lit(Value::Str(pattern)) => {
                    let re = compile_regex(&pattern).map_err(|e| Error::syntax(e, self.src, at))?;
                    Node::Matches(l, Box::new(re))
                }
                r => Node::Binary(Op::Matches, l, Box::new(r)),
            },
            Bin::Op(op) => Node::Binary(op, l, r),
        };
        self.sub(node, height)
    }

    /// A unary operator and its operand, or a primary with its postfixes.
    fn unary(&mut self) -> Result<Sub, Error> {
        let (prec, unary) = match self.peek() {
            Tok::Ident(w) if w == "not" => (50, Unary::Not),
            Tok::Punct("!") => (50, Unary::Not),
            Tok::Punct("-") => (90, Unary::Neg),
            Tok::Punct("+") => (90, Unary::Plus),
            _ => {
                let primary = self.primary()?;
                return self.postfix(primary);
            }
        };
        self.pos += 1;
        let operand = self.expr(prec)?;
        let height = operand.height;
        match (unary, operand.node) {
            // A negative literal stays a literal, so `[-1, 2]` is still a constant.
            (Unary::Neg, Node::Lit(Value::Int(i))) => {
                self.sub(Node::Lit(Value::Int(i.wrapping_neg())), height)
            }
            (Unary::Neg, Node::Lit(Value::Float(f))) => {
                self.sub(Node::Lit(Value::Float(-f)), height)
            }
            (Unary::Neg, node) => self.sub(Node::Neg(Box::new(node)), height + 1),
            (Unary::Plus, node) => self.sub(Node::Plus(Box::new(node)), height + 1),
            (Unary::Not, node) => self.sub(Node::Not(Box::new(node)), height + 1),
        }
    }

    /// `( … )`, a list, a map, a call, or an [`atom`](Self::atom). The recursive forms
    /// are parsed by small functions, so deep nesting keeps frames small.
    fn primary(&mut self) -> Result<Sub, Error> {
        let open = match self.peek() {
            Tok::Punct(p @ ("(" | "[" | "{")) => *p,
            Tok::Ident(name) if self.tok_at(1) == Some(&Tok::Punct("(")) => {
                let name = name.clone();
                return self.call(&name);
            }
            _ => return self.atom(),
        };
        self.pos += 1;
        match open {
            "[" => self.list(),
            "{" => self.dict(),
            _ => {
                let inner = self.expr(0)?;
                self.expect(")")?;
                Ok(inner)
            }
        }
    }

    /// A literal, a name or a path, `#`, `.name` in a predicate.
    fn atom(&mut self) -> Result<Sub, Error> {
        let at = self.at();
        let tok = self.peek().clone();
        self.pos += 1;
        let node = match tok {
            Tok::Int(i) => Node::Lit(Value::Int(i)),
            Tok::Float(f) => Node::Lit(Value::Float(f)),
            Tok::Str(s) => Node::Lit(Value::str(s)),
            Tok::Punct(".") if self.preds > 0 => {
                let key = self.name()?;
                Node::Member(Box::new(Node::Elem), key, false)
            }
            Tok::Pound(name) if self.preds > 0 && name.is_empty() => Node::Elem,
            Tok::Pound(name) if self.preds > 0 && name == "index" => Node::ElemIndex,
            Tok::Pound(name) if self.preds > 0 => {
                return Err(Error::syntax(
                    format!("#{name} is not supported (only # and #index)"),
                    self.src,
                    at,
                ));
            }
            Tok::Pound(_) => {
                return Err(Error::syntax(
                    "# is only valid inside a predicate (all, any, filter, …)",
                    self.src,
                    at,
                ));
            }
            Tok::Ident(w) => match w.as_str() {
                "true" => Node::Lit(Value::Bool(true)),
                "false" => Node::Lit(Value::Bool(false)),
                "nil" => Node::Lit(Value::Nil),
                "and" | "or" | "in" | "matches" | "contains" | "startsWith" | "endsWith"
                | "let" | "if" | "else" => {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
                _ if w.starts_with('$') => {
                    return Err(Error::syntax(format!("{w} is not supported"), self.src, at));
                }
                _ => {
                    let mut keys = Vec::new();
                    // `.name` continues the path, unless it is a method call `.name(`.
                    while self.peek() == &Tok::Punct(".")
                        && matches!(self.tok_at(1), Some(Tok::Ident(_)))
                        && self.tok_at(2) != Some(&Tok::Punct("("))
                    {
                        self.pos += 1;
                        keys.push(self.name()?);
                    }
                    self.vars.insert(w.as_str().into());
                    if keys.is_empty() {
                        Node::Var(w.into())
                    } else {
                        Node::Path(w.into(), keys.into())
                    }
                }
            },
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        };
        self.sub(node, 1)
    }

    /// Member access, indexing and their optional forms after `sub`.
    fn postfix(&mut self, mut sub: Sub) -> Result<Sub, Error> {
        loop {
            let optional = match self.peek() {
                Tok::Punct(".") => false,
                Tok::Punct("?.") => true,
                Tok::Punct("[") => {
                    self.pos += 1;
                    sub = self.index(sub, false)?;
                    continue;
                }
                _ => return Ok(sub),
            };
            self.pos += 1;
            if optional && self.peek() == &Tok::Punct("[") {
                self.pos += 1;
                sub = self.index(sub, true)?;
                continue;
            }
            let key = self.name()?;
            if self.peek() == &Tok::Punct("(") {
                return Err(self.error("methods are not supported"));
            }
            sub = self.make(|n| Node::Member(Box::new(n), key, optional), sub)?;
        }
    }

    /// The `i]` of `x[i]`.
    fn index(&mut self, target: Sub, optional: bool) -> Result<Sub, Error> {
        if self.peek() == &Tok::Punct(":") {
            return Err(self.error("slices are not supported"));
        }
        let index = self.expr(0)?;
        if self.peek() == &Tok::Punct(":") {
            return Err(self.error("slices are not supported"));
        }
        self.expect("]")?;
        let height = 1 + target.height.max(index.height);
        let node = Node::Index(Box::new(target.node), Box::new(index.node), optional);
        self.sub(node, height)
    }

    /// The items of `[ … ]` (the `[` is consumed); all literals make one constant.
    fn list(&mut self) -> Result<Sub, Error> {
        let mut items = Vec::new();
        let mut height = 0;
        while !self.eat("]") {
            let item = self.expr(0)?;
            height = height.max(item.height);
            items.push(item.node);
            if !self.eat(",") {
                self.expect("]")?;
                break;
            }
        }
        if items.iter().all(|n| matches!(n, Node::Lit(_))) {
            let values = items.into_iter().filter_map(literal).collect();
            return self.sub(Node::Lit(Value::array(values)), 1);
        }
        self.sub(Node::List(items.into()), height + 1)
    }

    /// The entries of `{ … }` (the `{` is consumed); all literals make one constant.
    fn dict(&mut self) -> Result<Sub, Error> {
        let mut entries: Vec<(Box<str>, Node)> = Vec::new();
        let mut height = 0;
        while !self.eat("}") {
            let key: Box<str> = match self.peek().clone() {
                Tok::Ident(k) | Tok::Str(k) => k.into(),
                _ => return Err(self.error("a map key must be a name or a string")),
            };
            self.pos += 1;
            self.expect(":")?;
            let value = self.expr(0)?;
            height = height.max(value.height);
            entries.retain(|(k, _)| *k != key);
            entries.push((key, value.node));
            if !self.eat(",") {
                self.expect("}")?;
                break;
            }
        }
        if entries.iter().all(|(_, n)| matches!(n, Node::Lit(_))) {
            let map: Map = entries
                .into_iter()
                .filter_map(|(k, n)| Some((k.into(), literal(n)?)))
                .collect();
            return self.sub(Node::Lit(Value::map(map)), 1);
        }
        self.sub(Node::Dict(entries.into()), height + 1)
    }

    /// A builtin call `name(…)` (the name is the current token, `(` the next).
    fn call(&mut self, name: &str) -> Result<Sub, Error> {
        let at = self.at();
        let Some(builtin) = builtins::lookup(name) else {
            return Err(self.error(format!("unknown function {name}")));
        };
        self.pos += 2;
        let (func, max) = match builtin {
            Builtin::Pred(pred) => return self.pred_call(pred, name, at),
            Builtin::Func(func) => (Some(func), true),
            Builtin::Extreme(max) => (None, max),
        };
        let (args, height) = self.args()?;
        let (min, most) = func.map_or((1, usize::MAX), Func::arity);
        if args.len() < min || args.len() > most {
            return Err(arity_error(name, min, most, args.len(), self.src, at));
        }
        let node = match func {
            Some(func) => Node::Call(func, args.into()),
            None => Node::Extreme(max, args.into()),
        };
        self.sub(node, height + 1)
    }

    /// The `list, predicate)` of a predicate function (`(` is consumed).
    fn pred_call(&mut self, pred: Pred, name: &str, at: usize) -> Result<Sub, Error> {
        let list = self.expr(0)?;
        let mut height = list.height;
        let body = if self.eat(",") {
            let body = self.predicate()?;
            height = height.max(body.height);
            Some(Box::new(body.node))
        } else if pred.needs_predicate() {
            let message = format!("{name} takes a list and a predicate");
            return Err(Error::syntax(message, self.src, at));
        } else {
            None
        };
        self.expect(")")?;
        self.sub(Node::Pred(pred, Box::new(list.node), body), height + 1)
    }

    /// A predicate: `{ expr }` or a bare expression, where `#` is the element.
    fn predicate(&mut self) -> Result<Sub, Error> {
        self.preds += 1;
        let body = if self.eat("{") {
            let body = self.expr(0);
            body.and_then(|b| self.expect("}").map(|()| b))
        } else {
            self.expr(0)
        };
        self.preds -= 1;
        body
    }

    /// The arguments of a call up to `)` (the `(` is consumed), and their height.
    fn args(&mut self) -> Result<(Vec<Node>, usize), Error> {
        let mut args = Vec::new();
        let mut height = 0;
        while !self.eat(")") {
            let arg = self.expr(0)?;
            height = height.max(arg.height);
            args.push(arg.node);
            if !self.eat(",") {
                self.expect(")")?;
                break;
            }
        }
        Ok((args, height))
    }

    /// A name after `.` or `?.`.
    fn name(&mut self) -> Result<Box<str>, Error> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                self.pos += 1;
                Ok(name.into())
            }
            _ => Err(self.error("expected a name after `.`")),
        }
    }

    /// Wraps `sub` in a one-child node.
    fn make(&mut self, wrap: impl FnOnce(Node) -> Node, sub: Sub) -> Result<Sub, Error> {
        self.sub(wrap(sub.node), sub.height + 1)
    }

    /// Counts a new node of `height`, refusing past the limits.
    fn sub(&mut self, node: Node, height: usize) -> Result<Sub, Error> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.error(format!("expression has more than {MAX_NODES} nodes")));
        }
        if height > MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(Sub { node, height })
    }

    /// The token `ahead` places after the current one.
    fn tok_at(&self, ahead: usize) -> Option<&Tok> {
        self.tokens.get(self.pos + ahead).map(|t| &t.tok)
    }

    fn peek(&self) -> &Tok {
        self.tokens.get(self.pos).map_or(&Tok::End, |t| &t.tok)
    }

    /// The byte offset of the current token.
    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.src.len(), |t| t.at)
    }

    fn eat(&mut self, punct: &'static str) -> bool {
        let hit = self.peek() == &Tok::Punct(punct);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, punct: &'static str) -> Result<(), Error> {
        if self.eat(punct) {
            Ok(())
        } else {
            Err(self.error(format!(
                "expected `{punct}`, found {}",
                describe(self.peek())
            )))
        }
    }

    fn unexpected(&self) -> Error {
        self.error(format!("unexpected {}", describe(self.peek())))
    }

    /// The error for nesting past [`MAX_DEPTH`].
    fn too_deep(&self) -> Error {
        self.error(format!("expression nests deeper than {MAX_DEPTH}"))
    }

    /// A syntax error at the current token.
    fn error(&self, message: impl Into<String>) -> Error {
        Error::syntax(message, self.src, self.at())
    }
}

/// A call with the wrong number of arguments.
fn arity_error(name: &str, min: usize, max: usize, got: usize, src: &str, at: usize) -> Error {
    let want = match (min, max) {
        (a, b) if a == b => format!("{a} argument(s)"),
        (a, usize::MAX) => format!("at least {a} argument(s)"),
        (a, b) => format!("{a} to {b} argument(s)"),
    };
    Error::syntax(format!("{name} takes {want}, got {got}"), src, at)
}

/// The word operators that compare (precedence 20).
fn word_op(word: &str) -> Option<Op> {
    Some(match word {
        "in" => Op::In,
        "contains" => Op::Contains,
        "startsWith" => Op::StartsWith,
        "endsWith" => Op::EndsWith,
        "matches" => Op::Matches,
        _ => return None,
    })
}

/// The value of a literal node.
fn literal(node: Node) -> Option<Value> {
    match node {
        Node::Lit(v) => Some(v),
        _ => None,
    }
}

/// A regex with the size limit; the error on one line.
pub(crate) fn compile_regex(pattern: &[u8]) -> Result<Regex, String> {
    let text = std::str::from_utf8(pattern).map_err(|_| "regex is not UTF-8".to_string())?;
    RegexBuilder::new(text)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let lines: Vec<String> = e
                .to_string()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            format!("invalid regex {text:?}: {}", lines.join(" "))
        })
}

/// A token for messages.
fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Int(_) | Tok::Float(_) => "a number".into(),
        Tok::Str(_) => "a string".into(),
        Tok::Ident(w) => format!("`{w}`"),
        Tok::Pound(w) => format!("`#{w}`"),
        Tok::Punct(p) => format!("`{p}`"),
        Tok::End => "the end of the expression".into(),
    }
}
