//! Action and resource patterns (reference §5.2, steps 1 and 2).
//!
//! A pattern is `*` (anything), `prefix.*` or `prefix*` (the value starts with `prefix`;
//! the dot is not required, so `document.read.*` also matches `document.reader`), or an
//! exact value. No other wildcard exists: a leading `*` (`*.read`) matches only literally.

/// One compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// `*`: matches every value.
    Any,
    /// A value that must be equal.
    Exact(Box<str>),
    /// A prefix the value must start with (from `prefix.*` or `prefix*`).
    Prefix(Box<str>),
}

impl Pattern {
    /// Compiles one pattern.
    pub(crate) fn parse(pattern: &str) -> Pattern {
        if pattern == "*" {
            Pattern::Any
        } else if let Some(prefix) = pattern.strip_suffix(".*").filter(|p| !p.is_empty()) {
            Pattern::Prefix(prefix.into())
        } else if let Some(prefix) = pattern.strip_suffix('*').filter(|p| !p.is_empty()) {
            Pattern::Prefix(prefix.into())
        } else {
            Pattern::Exact(pattern.into())
        }
    }

    /// True when `value` matches.
    pub(crate) fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(exact) => **exact == *value,
            Pattern::Prefix(prefix) => value.starts_with(&**prefix),
        }
    }
}

/// The patterns of `actions` or `resources`: any one matching is a match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Patterns(Box<[Pattern]>);

impl Patterns {
    /// Compiles `patterns`; a `*` among them makes the whole list `*`.
    pub(crate) fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Patterns {
        let compiled: Vec<Pattern> = patterns.into_iter().map(Pattern::parse).collect();
        if compiled.contains(&Pattern::Any) {
            return Patterns(Box::new([Pattern::Any]));
        }
        Patterns(compiled.into_boxed_slice())
    }

    /// True when any pattern matches `value`.
    pub(crate) fn matches(&self, value: &str) -> bool {
        self.0.iter().any(|p| p.matches(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, value: &str) -> bool {
        Pattern::parse(pattern).matches(value)
    }

    #[test]
    fn star_matches_everything_including_empty() {
        assert!(m("*", "funcs.call"));
        assert!(m("*", ""));
    }

    #[test]
    fn exact_patterns_match_only_themselves() {
        assert!(m("funcs.call", "funcs.call"));
        assert!(!m("funcs.call", "funcs.callx"));
        assert!(!m("funcs.call", "funcs"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn dot_star_is_a_prefix_without_requiring_the_dot() {
        assert!(m("document.read.*", "document.read.all"));
        assert!(m("document.read.*", "document.read"));
        // The reference quirk: the dot is not required.
        assert!(m("document.read.*", "document.reader"));
        assert!(!m("document.read.*", "document.rea"));
        assert!(!m("document.read.*", "doc"));
        assert!(m("document.read.*", "document.read.*"));
    }

    #[test]
    fn trailing_star_is_a_prefix() {
        assert!(m("process.*", "process.spawn"));
        assert!(m("process*", "processes"));
        assert!(m("process*", "process"));
        assert!(!m("process*", "proc"));
        assert!(m("app:*", "app:f"));
        assert!(!m("app:*", "other:f"));
    }

    #[test]
    fn a_leading_star_matches_only_literally() {
        assert!(!m("*.read", "document.read"));
        assert!(m("*.read", "*.read"));
        assert!(!m("*read", "document.read"));
        assert!(!m("a*b", "axb"));
        assert!(m("a*b", "a*b"));
    }

    #[test]
    fn short_wildcard_forms() {
        // `.*` alone has an empty prefix before `.*`: it is the prefix `.` (Go's rule).
        assert!(m(".*", ".x"));
        assert!(!m(".*", "x"));
        assert!(m("**", "*x"));
        assert!(!m("**", "x"));
    }

    #[test]
    fn lists_match_when_any_pattern_does() {
        let p = Patterns::new(["funcs.call", "process.*"]);
        assert!(p.matches("funcs.call"));
        assert!(p.matches("process.send"));
        assert!(!p.matches("fs.get"));
        assert_eq!(Patterns::new(["a", "*"]), Patterns::new(["*"]));
    }
}
