//! Round trips of generated typed sources: erasing gives code Lua 5.4 loads, and every
//! line ending with a marker `--L<n>` still ends with it on line n.

use crate::common::{erased, line_breaks};

/// A small deterministic generator (xorshift64*).
struct Gen(u64);

impl Gen {
    /// A number below `n`.
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    /// One of `items`.
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A type as tokens (joined later with spaces, line breaks or comments).
    fn ty(&mut self, depth: usize, out: &mut Vec<String>) {
        let leaf = depth == 0 || self.below(3) == 0;
        let choice = if leaf {
            self.below(4)
        } else {
            4 + self.below(9)
        };
        let push =
            |out: &mut Vec<String>, items: &[&str]| out.extend(items.iter().map(|s| s.to_string()));
        match choice {
            0 => out.push(
                self.pick(&[
                    "number", "string", "boolean", "any", "integer", "nil", "unknown", "table",
                ])
                .into(),
            ),
            1 => out.push(self.pick(&["Point", "lib.Point", "T0", "Node"]).into()),
            2 => out.push(
                self.pick(&["\"on\"", "'off'", "42", "-1", "true", "[[x]]"])
                    .into(),
            ),
            3 => push(
                out,
                &["number", "@min", "(", "0", ")", "@max", "(", "10", ")"],
            ),
            4 => {
                self.ty(depth - 1, out);
                out.push("?".into());
            }
            5 | 6 => {
                self.ty(depth - 1, out);
                out.push(self.pick(&["|", "&"]).into());
                self.ty(depth - 1, out);
            }
            7 => {
                out.push("{".into());
                self.ty(depth - 1, out);
                out.push("}".into());
            }
            8 => {
                push(out, &["{", "[", "string", "]", ":"]);
                self.ty(depth - 1, out);
                out.push("}".into());
            }
            9 => {
                out.push("{".into());
                for i in 0..1 + self.below(3) {
                    if self.below(4) == 0 {
                        out.push("readonly".into());
                    }
                    out.push(format!("f{i}"));
                    if self.below(3) == 0 {
                        out.push("?".into());
                    }
                    out.push(":".into());
                    self.ty(depth - 1, out);
                    out.push(",".into());
                }
                out.push("}".into());
            }
            10 => {
                out.push("(".into());
                self.ty(depth - 1, out);
                push(out, &[",", "...", ":"]);
                self.ty(depth - 1, out);
                push(out, &[")", "->", "("]);
                self.ty(depth - 1, out);
                out.push(")".into());
            }
            11 => {
                push(out, &["Box", "<"]);
                self.ty(depth - 1, out);
                out.push(">".into());
            }
            _ => {
                push(
                    out,
                    &[
                        "string", "@min_len", "(", "1", ")", "@pattern", "(", "\"^a\"", ")",
                    ],
                );
            }
        }
    }

    /// A type's text; with `multiline`, gaps may be line breaks or long comments.
    fn type_text(&mut self, multiline: bool) -> String {
        let mut tokens = Vec::new();
        self.ty(3, &mut tokens);
        let mut out = String::new();
        for (i, token) in tokens.iter().enumerate() {
            if i > 0 {
                out.push_str(match (multiline, self.below(8)) {
                    (true, 0) => "\n",
                    (true, 1) => " --[[ c ]] ",
                    (true, 2) => " -- line comment\n",
                    (_, 3) => "",
                    _ => " ",
                });
            }
            out.push_str(token);
        }
        out
    }

    /// A statement (maybe several lines; its last line gets the marker).
    fn statement(&mut self, n: usize) -> String {
        match self.below(11) {
            0 => format!("local v{n}: {} = nil", self.type_text(false)),
            1 => format!("type T{n} = {}", self.type_text(true)),
            2 => format!("export type G{n}<T, U: Point> = {}", self.type_text(true)),
            3 => format!(
                "local function f{n}<T>(a: {}, b, ...: {}): ({}, string?)\n  local x: T = a :: T\n  return x, nil\nend",
                self.type_text(false),
                self.type_text(false),
                self.type_text(true)
            ),
            4 => format!(
                "local c{n} = v{} :: {}",
                self.below(n + 1),
                self.type_text(false)
            ),
            5 => format!(
                "local d{n} = (v{} as {}) or 1",
                self.below(n + 1),
                self.type_text(false)
            ),
            6 => format!("local e{n} = (x!).y .. f()!.z .. tostring(t[1]!)"),
            7 => format!("local t{n} = typeof(v{})", self.below(n + 1)),
            8 => "for i: integer = 1, 2 do local s = 'a: b :: c !' end".to_string(),
            9 => format!("obj:method(a, b) ::l{n}:: goto l{n}"),
            _ => format!("local as = {n} as = as + 1 print(as, \"as T\")"),
        }
    }
}

#[test]
fn generated_sources_keep_their_lines() {
    for seed in 1..=300u64 {
        let mut rng = Gen(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut src = String::from("local x, t, obj = {}, {}, {method = function() end} --L1\n");
        let mut line = 1;
        for n in 0..40 {
            let statement = rng.statement(n);
            line += line_breaks(&statement) + 1;
            src.push_str(&statement);
            src.push_str(&format!(" --L{line}\n"));
        }
        let code = erased(&src);
        let erased_lines: Vec<&str> = code.lines().collect();
        for (i, original) in src.lines().enumerate() {
            if let Some(at) = original.rfind(" --L") {
                let marker = &original[at..];
                assert_eq!(marker, format!(" --L{}", i + 1));
                assert!(
                    erased_lines[i].ends_with(marker),
                    "seed {seed}, line {}:\n{}\nfrom\n{src}",
                    i + 1,
                    erased_lines[i]
                );
            }
        }
    }
}
