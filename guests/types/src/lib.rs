//! `test:types@0.1.0`: one export per WIT type, so the engine's value mapping can be
//! checked in both directions. Every function is total: nothing here traps.
// Some of the glue wit-bindgen generates takes many (flattened) parameters.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({ world: "types", path: "wit" });

use exports::test::types::math;

struct Types;

impl math::Guest for Types {
    fn fibonacci(n: u32) -> u64 {
        let (mut a, mut b) = (0u64, 1u64);
        for _ in 0..n {
            (a, b) = (b, a.wrapping_add(b));
        }
        a
    }

    fn gcd(mut a: u64, mut b: u64) -> u64 {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }
}

impl Guest for Types {
    fn echo_bool(b: bool) -> bool {
        b
    }
    fn not_bool(b: bool) -> bool {
        !b
    }

    fn echo_s8(x: i8) -> i8 {
        x
    }
    fn neg_s8(x: i8) -> i8 {
        x.wrapping_neg()
    }
    fn echo_u8(x: u8) -> u8 {
        x
    }
    fn inc_u8(x: u8) -> u8 {
        x.wrapping_add(1)
    }
    fn echo_s16(x: i16) -> i16 {
        x
    }
    fn neg_s16(x: i16) -> i16 {
        x.wrapping_neg()
    }
    fn echo_u16(x: u16) -> u16 {
        x
    }
    fn inc_u16(x: u16) -> u16 {
        x.wrapping_add(1)
    }
    fn echo_s32(x: i32) -> i32 {
        x
    }
    fn neg_s32(x: i32) -> i32 {
        x.wrapping_neg()
    }
    fn echo_u32(x: u32) -> u32 {
        x
    }
    fn inc_u32(x: u32) -> u32 {
        x.wrapping_add(1)
    }
    fn echo_s64(x: i64) -> i64 {
        x
    }
    fn neg_s64(x: i64) -> i64 {
        x.wrapping_neg()
    }
    fn echo_u64(x: u64) -> u64 {
        x
    }
    fn inc_u64(x: u64) -> u64 {
        x.wrapping_add(1)
    }
    fn add(a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }

    fn echo_f32(x: f32) -> f32 {
        x
    }
    fn half_f32(x: f32) -> f32 {
        x / 2.0
    }
    fn echo_f64(x: f64) -> f64 {
        x
    }
    fn double_f64(x: f64) -> f64 {
        x * 2.0
    }

    fn echo_char(c: char) -> char {
        c
    }
    fn next_char(c: char) -> char {
        match c {
            '\u{D7FF}' => '\u{E000}',
            char::MAX => '\0',
            // Every other scalar value + 1 is again a scalar value.
            _ => char::from_u32(c as u32 + 1).unwrap_or('\0'),
        }
    }

    fn echo_string(s: String) -> String {
        s
    }
    fn to_upper(s: String) -> String {
        s.to_uppercase()
    }
    fn string_length(s: String) -> u32 {
        s.chars().count() as u32
    }

    fn echo_bytes(b: Vec<u8>) -> Vec<u8> {
        b
    }
    fn reverse_bytes(mut b: Vec<u8>) -> Vec<u8> {
        b.reverse();
        b
    }
    fn echo_strings(l: Vec<String>) -> Vec<String> {
        l
    }
    fn reverse_strings(mut l: Vec<String>) -> Vec<String> {
        l.reverse();
        l
    }
    fn join_strings(l: Vec<String>, sep: String) -> String {
        l.join(&sep)
    }
    fn split_string(s: String, sep: String) -> Vec<String> {
        if sep.is_empty() {
            return vec![s];
        }
        s.split(sep.as_str()).map(String::from).collect()
    }
    fn sum_s32(l: Vec<i32>) -> i64 {
        l.iter().map(|&x| i64::from(x)).sum()
    }
    fn sum_f64(l: Vec<f64>) -> f64 {
        l.iter().sum()
    }
    fn range(n: u32) -> Vec<u32> {
        (0..n).collect()
    }

    fn echo_point(p: Point) -> Point {
        p
    }
    fn translate(p: Point, dx: i32, dy: i32) -> Point {
        Point {
            x: p.x.wrapping_add(dx),
            y: p.y.wrapping_add(dy),
        }
    }
    fn echo_rect(r: Rect) -> Rect {
        r
    }
    fn normalize_rect(r: Rect) -> Rect {
        let (a, b) = (r.top_left, r.bottom_right);
        Rect {
            top_left: Point {
                x: a.x.min(b.x),
                y: a.y.min(b.y),
            },
            bottom_right: Point {
                x: a.x.max(b.x),
                y: a.y.max(b.y),
            },
        }
    }
    fn rect_area(r: Rect) -> i64 {
        rect_area(&r)
    }
    fn echo_user(u: User) -> User {
        u
    }
    fn make_user(name: String, age: u8) -> User {
        User {
            name,
            age,
            tags: Vec::new(),
            email: None,
        }
    }
    fn describe_user(u: User) -> String {
        format!(
            "{} ({}) [{}] {}",
            u.name,
            u.age,
            u.tags.join(", "),
            u.email.as_deref().unwrap_or("no email")
        )
    }
    fn echo_users(users: Vec<User>) -> Vec<User> {
        users
    }
    fn older(users: Vec<User>, years: u8) -> Vec<User> {
        users
            .into_iter()
            .map(|u| User {
                age: u.age.saturating_add(years),
                ..u
            })
            .collect()
    }

    fn maybe_double(x: Option<i32>) -> Option<i32> {
        x.map(|v| v.wrapping_mul(2))
    }
    fn echo_option_string(s: Option<String>) -> Option<String> {
        s
    }
    fn echo_option_point(p: Option<Point>) -> Option<Point> {
        p
    }

    fn try_divide(a: i32, b: i32) -> Result<i32, DivError> {
        if b == 0 {
            return Err(DivError {
                code: 1,
                message: "division by zero".into(),
            });
        }
        a.checked_div(b).ok_or_else(|| DivError {
            code: 2,
            message: "overflow".into(),
        })
    }
    fn check_positive(x: i32) -> Result<(), String> {
        if x > 0 {
            Ok(())
        } else {
            Err(format!("{x} is not positive"))
        }
    }
    fn echo_result(r: Result<String, u32>) -> Result<String, u32> {
        r
    }
    fn parse_number(s: String) -> Result<i64, String> {
        s.trim().parse::<i64>().map_err(|e| e.to_string())
    }

    fn area(s: Shape) -> f64 {
        match s {
            Shape::Circle(r) => core::f64::consts::PI * r * r,
            Shape::Rectangle(r) => rect_area(&r).unsigned_abs() as f64,
            Shape::Empty => 0.0,
        }
    }
    fn make_shape(kind: String) -> Shape {
        match kind.as_str() {
            "circle" => Shape::Circle(1.0),
            "rectangle" => Shape::Rectangle(Rect {
                top_left: Point { x: 0, y: 0 },
                bottom_right: Point { x: 2, y: 3 },
            }),
            _ => Shape::Empty,
        }
    }
    fn echo_shape(s: Shape) -> Shape {
        s
    }

    fn next_color(c: Color) -> Color {
        match c {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::Red,
        }
    }
    fn color_name(c: Color) -> String {
        match c {
            Color::Red => "red",
            Color::Green => "green",
            Color::Blue => "blue",
        }
        .into()
    }
    fn echo_color(c: Color) -> Color {
        c
    }

    fn toggle_exec(p: Perms) -> Perms {
        p ^ Perms::EXEC
    }
    fn echo_perms(p: Perms) -> Perms {
        p
    }

    fn swap((s, n): (String, u32)) -> (u32, String) {
        (n, s)
    }

    fn noop() {}
}

/// Signed area (width * height) in 64 bits, so no corner values can overflow it.
fn rect_area(r: &Rect) -> i64 {
    let w = i64::from(r.bottom_right.x) - i64::from(r.top_left.x);
    let h = i64::from(r.bottom_right.y) - i64::from(r.top_left.y);
    w * h
}

export!(Types);
