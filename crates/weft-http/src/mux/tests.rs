//! The route table's rules, one table of cases each; `property` checks `build` and
//! `route` against a brute-force router on seeded random tables, and that they never
//! panic.

mod property;

use super::*;

/// A table from specs: `"GET /x"` is a route on a router without prefix, `"/x"` a static
/// mount; spec `i` is owned by `app:p<i>` and has the handler `i`.
fn build(specs: &[&str]) -> Result<Mux<usize>, Vec<MuxError>> {
    let mut b = MuxBuilder::new();
    let root = b.router("app:router", "");
    for (i, spec) in specs.iter().enumerate() {
        let owner = format!("app:p{i}");
        match spec.split_once(' ') {
            Some((method, path)) => b.route(root, owner, method, path, i),
            None => b.mount(owner, *spec, i),
        };
    }
    b.build()
}

/// The table of `specs`, which must build.
fn mux(specs: &[&str]) -> Mux<usize> {
    build(specs).unwrap_or_else(|errors| panic!("{specs:?}: {}", text(&errors).join("\n")))
}

/// The build errors of `specs`, as text (none when it builds).
fn errors(specs: &[&str]) -> Vec<String> {
    build(specs).err().map(|e| text(&e)).unwrap_or_default()
}

fn text(errors: &[MuxError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// A request, `"GET /x?a=1"`, routed.
fn ask<'a>(mux: &'a Mux<usize>, request: &str) -> Match<'a, usize> {
    let (method, target) = request.split_once(' ').expect("METHOD target");
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    mux.route(method, path, query)
}

/// A match in short: `found 1 id=7`, `auto 0`, `301 /x/`, `405 GET, HEAD`, `404`.
fn show(m: Match<'_, usize>) -> String {
    match m {
        Match::Found { handler, params } => {
            let mut s = format!("found {handler}");
            for (name, value) in params.iter() {
                s.push_str(&format!(" {name}={value}"));
            }
            s
        }
        Match::AutoOptions { handler } => format!("auto {handler}"),
        Match::Redirect { location } => format!("301 {location}"),
        Match::MethodNotAllowed { allow } => format!("405 {allow}"),
        Match::NotFound => "404".into(),
    }
}

/// Routes each `(request, expected)` through the table of `specs`.
fn check(specs: &[&str], cases: &[(&str, &str)]) {
    let mux = mux(specs);
    for (request, want) in cases {
        assert_eq!(show(ask(&mux, request)), *want, "{specs:?}: {request}");
    }
}

#[test]
fn most_specific_wins() {
    // Literal over wildcard, in either order of registration.
    for specs in [
        ["GET /users/{id}", "GET /users/new"],
        ["GET /users/new", "GET /users/{id}"],
    ] {
        let new = specs.iter().position(|s| s.ends_with("new")).unwrap();
        let wild = 1 - new;
        check(
            &specs,
            &[
                ("GET /users/new", &format!("found {new}")),
                ("GET /users/7", &format!("found {wild} id=7")),
            ],
        );
    }
    let cases: &[(&[&str], &str, &str)] = &[
        // A longer literal prefix over a subtree.
        (
            &["GET /images/", "GET /images/thumbnails/"],
            "GET /images/thumbnails/x",
            "found 1",
        ),
        (
            &["GET /images/", "GET /images/thumbnails/"],
            "GET /images/x",
            "found 0",
        ),
        (&["GET /", "GET /api/"], "GET /api/v1/x", "found 1"),
        (&["GET /", "GET /api/"], "GET /apix", "found 0"),
        // A method pattern over a mount for the same path; the mount serves the rest.
        (
            &["/assets", "GET /assets/{f}"],
            "GET /assets/a.css",
            "found 1 f=a.css",
        ),
        (
            &["/assets", "GET /assets/{f}"],
            "POST /assets/a.css",
            "found 0",
        ),
        (
            &["/assets", "GET /assets/{f}"],
            "GET /assets/a/b.css",
            "found 0",
        ),
        // An explicit HEAD over the GET that serves HEAD.
        (&["GET /x", "HEAD /x"], "HEAD /x", "found 1"),
        (&["GET /x", "HEAD /x"], "GET /x", "found 0"),
        (&["GET /x"], "HEAD /x", "found 0"),
        (&["GET /x/{id}", "HEAD /x/new"], "HEAD /x/7", "found 0 id=7"),
        (&["GET /x/{id}", "HEAD /x/new"], "HEAD /x/new", "found 1"),
        // One segment over the rest of the path.
        (
            &["GET /a/{x}", "GET /a/{rest...}"],
            "GET /a/b",
            "found 0 x=b",
        ),
        (
            &["GET /a/{x}", "GET /a/{rest...}"],
            "GET /a/b/c",
            "found 1 rest=b/c",
        ),
        // `{$}` is the root alone; `/` is everything else.
        (&["GET /{$}", "GET /"], "GET /", "found 0"),
        (&["GET /{$}", "GET /"], "GET /x/y", "found 1"),
        (&["GET /a/{$}", "GET /a/"], "GET /a/", "found 0"),
        (&["GET /a/{$}", "GET /a/"], "GET /a/b", "found 1"),
        // Backtracking: the literal branch fails further on, the wildcard one matches.
        (&["GET /a/b/z", "GET /a/{x}/c"], "GET /a/b/c", "found 1 x=b"),
        (&["GET /a/b/z", "GET /a/{x}/c"], "GET /a/b/z", "found 0"),
        (
            &["GET /a/b/c/d", "GET /a/{x}/c/"],
            "GET /a/b/c/e",
            "found 1 x=b",
        ),
        (
            &["GET /a/b/c/d", "GET /a/{x}/c/"],
            "GET /a/b/c/d",
            "found 0",
        ),
        // `/users` and `/users/` are two patterns (Wippy's pre-check refuses the pair).
        (&["GET /users", "GET /users/"], "GET /users", "found 0"),
        (&["GET /users", "GET /users/"], "GET /users/", "found 1"),
        (&["GET /users", "GET /users/"], "GET /users/7", "found 1"),
    ];
    for (specs, request, want) in cases {
        check(specs, &[(request, want)]);
    }
}

#[test]
fn params_are_decoded_per_segment() {
    check(
        &[
            "GET /u/{name}",
            "GET /f/{path...}",
            "GET /users/:id/posts/:post",
        ],
        &[
            ("GET /u/ann", "found 0 name=ann"),
            ("GET /u/a%20b", "found 0 name=a b"),
            // An escaped slash stays inside its segment.
            ("GET /u/a%2Fb", "found 0 name=a/b"),
            ("GET /u/caf%C3%A9", "found 0 name=café"),
            ("GET /u/caf%c3%a9", "found 0 name=café"),
            ("GET /u/a+b", "found 0 name=a+b"),
            // A bad escape keeps the segment as it is (Go's pathUnescape).
            ("GET /u/%zz", "found 0 name=%zz"),
            ("GET /u/a%2", "found 0 name=a%2"),
            // Bytes that are not UTF-8 after decoding.
            ("GET /u/%FF", "found 0 name=\u{FFFD}"),
            // `{name...}` reads the tail, decoded as a whole.
            ("GET /f/a/b.txt", "found 1 path=a/b.txt"),
            ("GET /f/a%2Fb/c%20d", "found 1 path=a/b/c d"),
            // An empty tail is not stored (Wippy's `param` gives nil).
            ("GET /f/", "found 1"),
            ("GET /users/5/posts/9", "found 2 id=5 post=9"),
        ],
    );
    let m = mux(&["GET /u/{name}/{rest...}"]);
    let Match::Found { params, .. } = ask(&m, "GET /u/ann/x/y") else {
        panic!("no match");
    };
    assert_eq!(params.get("name"), Some("ann"));
    assert_eq!(params.get("rest"), Some("x/y"));
    assert_eq!(params.get("rest..."), None);
    assert_eq!(params.get("other"), None);
    assert_eq!(params.len(), 2);
    assert!(!params.is_empty());
}

#[test]
fn literals_are_decoded_too() {
    check(
        &["GET /caf%C3%A9", "GET /a%2Fb", "GET /ñ/x"],
        &[
            ("GET /caf%C3%A9", "found 0"),
            ("GET /caf%c3%a9", "found 0"),
            ("GET /%63af%C3%A9", "found 0"),
            // `%2F` in a pattern is a slash inside one segment, not a separator.
            ("GET /a%2fb", "found 1"),
            ("GET /a/b", "404"),
            ("GET /%C3%B1/x", "found 2"),
        ],
    );
    // A `%2F` segment is not the trailing slash of `{$}` (Go's tree confuses the two).
    check(
        &["GET /a/{$}"],
        &[("GET /a/%2F", "404"), ("GET /a/", "found 0")],
    );
}

#[test]
fn trailing_slash_and_cleaning_redirect() {
    check(
        &["GET /x/", "GET /files/{p...}", "GET /a/{$}", "GET /only"],
        &[
            ("GET /x", "301 /x/"),
            ("GET /x?a=1&b", "301 /x/?a=1&b"),
            ("GET /x?", "301 /x/"),
            ("HEAD /x", "301 /x/"),
            ("GET /x/", "found 0"),
            ("GET /x/y", "found 0"),
            ("GET /files", "301 /files/"),
            ("GET /files/", "found 1"),
            ("GET /a", "301 /a/"),
            // Only `/only` exists: `/only/` is not found.
            ("GET /only/", "404"),
            // Another method on the subtree's root is a 405, not a redirect.
            ("POST /x", "405 GET, HEAD, OPTIONS"),
            // Cleaning: `.`, `..` and `//`, with the query kept.
            ("GET /only/../x/./y", "301 /x/y"),
            ("GET //only", "301 /only"),
            ("GET /only/.?q=1", "301 /only?q=1"),
            ("GET /only/", "404"),
            // `/x/y/..` is `/x`, the root of a subtree.
            ("GET /x/y/..", "301 /x/"),
            ("GET /x/y/../", "301 /x/"),
            // A path that is cleaned and names a subtree goes to the subtree at once.
            ("GET /a/../x", "301 /x/"),
            // Cleaning redirects even when nothing matches after it.
            ("GET /nope/../gone", "301 /gone"),
            ("GET /..", "301 /"),
            // Locations stay on this origin and keep their escapes.
            ("GET //evil.com/..", "301 /"),
            ("GET /\\evil.com/.", "301 /%5Cevil.com"),
            ("GET /a/./caf%C3%A9", "301 /a/caf%C3%A9"),
            ("GET /x/./a\"b", "301 /x/a%22b"),
        ],
    );
    // A mount's root redirects for every method.
    check(
        &["/assets"],
        &[
            ("GET /assets", "301 /assets/"),
            ("POST /assets", "301 /assets/"),
            ("GET /assets/", "found 0"),
            ("DELETE /assets/a/b", "found 0"),
        ],
    );
    // Following a redirect never redirects again.
    let m = mux(&["GET /x/", "/s", "GET /a/{$}"]);
    for request in ["GET /x", "GET /s", "GET /a", "GET /x/./y/..", "GET //s"] {
        let Match::Redirect { location } = ask(&m, request) else {
            panic!("{request}: no redirect");
        };
        let again = ask(&m, &format!("GET {location}"));
        assert!(
            !matches!(again, Match::Redirect { .. }),
            "{request} → {location}"
        );
    }
}

#[test]
fn not_found_and_method_not_allowed() {
    let every = [
        "PUT /m",
        "GET /m",
        "TRACE /m",
        "DELETE /m",
        "PATCH /m",
        "POST /m",
        "HEAD /m",
    ];
    let cases: &[(&[&str], &str, &str)] = &[
        (&["GET /x"], "GET /y", "404"),
        (&["GET /x"], "POST /x", "405 GET, HEAD, OPTIONS"),
        (&["POST /x"], "GET /x", "405 OPTIONS, POST"),
        (
            &["GET /x", "POST /x", "DELETE /x"],
            "PUT /x",
            "405 DELETE, GET, HEAD, OPTIONS, POST",
        ),
        (
            &every,
            "CONNECT /m",
            "405 DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE",
        ),
        (
            &["PURGE /x", "GET /x"],
            "PUT /x",
            "405 GET, HEAD, OPTIONS, PURGE",
        ),
        // Only the explicit OPTIONS route: no automatic one needed.
        (&["OPTIONS /x"], "GET /x", "405 OPTIONS"),
        // An explicit HEAD alone serves no GET.
        (&["HEAD /x"], "GET /x", "405 HEAD, OPTIONS"),
        // The trailing-slash form's methods count too (Go's matchingMethods).
        (&["GET /x/"], "PUT /x", "405 GET, HEAD, OPTIONS"),
        (&["GET /x/{id}"], "PUT /x/7", "405 GET, HEAD, OPTIONS"),
        (&["GET /x/{id}"], "PUT /x/7/8", "404"),
        // A mount catches every method: no 405 under it.
        (&["GET /x", "/"], "PUT /x", "found 1"),
        (&["GET /x", "/static"], "PUT /x", "405 GET, HEAD, OPTIONS"),
        // Targets that are not a path.
        (&["/"], "CONNECT example.com:443", "404"),
        (&["/"], "OPTIONS *", "404"),
        (&["/"], "GET ", "404"),
    ];
    for (specs, request, want) in cases {
        check(specs, &[(request, want)]);
    }
    let m = mux(&["GET /x", "POST /x"]);
    let Match::MethodNotAllowed { allow } = ask(&m, "PUT /x") else {
        panic!("no 405");
    };
    assert_eq!(
        allow.iter().collect::<Vec<_>>(),
        ["GET", "HEAD", "OPTIONS", "POST"]
    );
    assert_eq!(allow.to_string(), "GET, HEAD, OPTIONS, POST");
}

#[test]
fn automatic_options() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["GET /x"], "OPTIONS /x", "auto 0"),
        (&["GET /x/{id}"], "OPTIONS /x/7", "auto 0"),
        (&["GET /x"], "OPTIONS /y", "404"),
        // An explicit OPTIONS endpoint wins instead of conflicting (Wippy: conflict).
        (&["GET /x", "OPTIONS /x"], "OPTIONS /x", "found 1"),
        (&["OPTIONS /x", "GET /x"], "OPTIONS /x", "found 0"),
        (&["OPTIONS /", "GET /x"], "OPTIONS /x", "found 0"),
        (&["OPTIONS /{$}", "GET /x"], "OPTIONS /x", "auto 1"),
        // Equivalent paths of several routes are one automatic OPTIONS: the first.
        (
            &["GET /users/{id}", "POST /users/{uid}", "PUT /users/{n}"],
            "OPTIONS /users/1",
            "auto 0",
        ),
        // Overlapping paths of routes that never conflict: the tree's order decides.
        (
            &["GET /a/{x}/c", "POST /a/b/{y}"],
            "OPTIONS /a/b/c",
            "auto 1",
        ),
        (
            &["GET /a/{x}/c", "POST /a/b/{y}"],
            "OPTIONS /a/z/c",
            "auto 0",
        ),
        // A route's OPTIONS is more specific than a mount; the mount serves the rest.
        (&["GET /api/x", "/"], "OPTIONS /api/x", "auto 0"),
        (&["GET /api/x", "/"], "OPTIONS /other", "found 1"),
        (&["/assets"], "OPTIONS /assets/a.css", "found 0"),
        // A subtree's root redirects for OPTIONS too.
        (&["GET /x/"], "OPTIONS /x", "301 /x/"),
        (&["GET /x/"], "OPTIONS /x/y", "auto 0"),
    ];
    for (specs, request, want) in cases {
        check(specs, &[(request, want)]);
    }
}

#[test]
fn routers_join_their_prefix() {
    let mut b = MuxBuilder::new();
    let api = b.router("app:api", "/api/");
    let root = b.router("app:root", "");
    let slash = b.router("app:slash_root", "/v2");
    b.route(api, "app:users", "GET", "/users/{id}", 0)
        .route(root, "app:home", "GET", "/{$}", 1)
        .route(slash, "app:v2", "GET", "/", 2)
        // The same path as `app:users` from another router: one automatic OPTIONS.
        .route(root, "app:users_post", "POST", "/api/users/{uid}", 3)
        .mount("app:static", "/static", 4);
    let m = b.build().unwrap();
    for (request, want) in [
        ("GET /api/users/7", "found 0 id=7"),
        ("POST /api/users/7", "found 3 uid=7"),
        ("OPTIONS /api/users/7", "auto 0"),
        ("GET /", "found 1"),
        ("GET /v2/anything", "found 2"),
        ("GET /v2", "301 /v2/"),
        ("GET /static/x", "found 4"),
    ] {
        assert_eq!(show(ask(&m, request)), want, "{request}");
    }
}

#[test]
fn router_prefixes_are_checked() {
    let mut b = MuxBuilder::new();
    let host = b.router("app:hosted", "api");
    let one = b.router("app:one", "/api");
    let two = b.router("app:two", "/api/");
    let root = b.router("app:root", "/");
    let empty = b.router("app:empty", "");
    b.route(host, "app:a", "GET", "/x", 0)
        .route(one, "app:b", "GET", "/x", 1)
        .route(two, "app:c", "GET", "/y", 2)
        .route(root, "app:d", "GET", "/z", 3)
        .route(empty, "app:e", "GET", "/w", 4);
    let errors = text(&b.build().unwrap_err());
    assert_eq!(
        errors,
        [
            "router prefix \"api\" of app:hosted must be empty or start with \"/\": weft has no host patterns",
            "router prefix \"/api/\" of app:two is the prefix \"/api\" of app:one",
            "router prefix \"\" of app:empty is the prefix \"/\" of app:root",
        ]
    );
    // A router of another builder is refused, not a panic.
    let mut other = MuxBuilder::<usize>::new();
    let foreign = other.router("app:x", "");
    let mut b = MuxBuilder::new();
    b.route(foreign, "app:e", "GET", "/x", 0);
    assert_eq!(
        text(&b.build().unwrap_err()),
        ["pattern \"GET /x\" of app:e: a router of another builder"]
    );
}

#[test]
fn conflicts_name_both_owners_and_patterns() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["GET /users/{id}", "GET /users/{uid}"],
            "pattern \"GET /users/{uid}\" of app:p1 conflicts with pattern \"GET /users/{id}\" \
             of app:p0: both match the same requests",
        ),
        (
            &["GET /x", "GET /x"],
            "pattern \"GET /x\" of app:p1 conflicts with pattern \"GET /x\" of app:p0: \
             both match the same requests",
        ),
        (
            // A literal is compared decoded.
            &["GET /a", "GET /%61"],
            "pattern \"GET /%61\" of app:p1 conflicts with pattern \"GET /a\" of app:p0: \
             both match the same requests",
        ),
        (
            &["GET /a/{x}/c", "GET /a/b/{y}"],
            "pattern \"GET /a/b/{y}\" of app:p1 conflicts with pattern \"GET /a/{x}/c\" of \
             app:p0: both match some paths, like \"/a/b/c\", and neither is more specific: \
             only the first matches \"/a/b/y\", only the second \"/a/x/c\"",
        ),
        (
            // `{x...}` cases Wippy's pre-check misses (Go panics).
            &["GET /files/", "GET /files/{p...}"],
            "pattern \"GET /files/{p...}\" of app:p1 conflicts with pattern \"GET /files/\" of \
             app:p0: both match the same requests",
        ),
        (
            &["GET /a/{p...}", "GET /{x}/b"],
            "pattern \"GET /{x}/b\" of app:p1 conflicts with pattern \"GET /a/{p...}\" of \
             app:p0: both match some paths, like \"/a/b\", and neither is more specific: \
             only the first matches \"/x/b\", only the second \"/a/\"",
        ),
        (
            &["GET /{x}/{$}", "GET /a/{p...}"],
            "pattern \"GET /a/{p...}\" of app:p1 conflicts with pattern \"GET /{x}/{$}\" of \
             app:p0: both match some paths, like \"/a/\", and neither is more specific: \
             only the first matches \"/a/p\", only the second \"/x/\"",
        ),
        (
            // GET serves HEAD, with a more specific path: neither wins.
            &["GET /x/new", "HEAD /x/{id}"],
            "pattern \"HEAD /x/{id}\" of app:p1 conflicts with pattern \"GET /x/new\" of \
             app:p0: the first matches fewer methods than the second but more paths, so \
             neither is more specific",
        ),
        (
            // Route against mount (Go panics, Wippy's pre-check misses it).
            &["/assets", "GET /"],
            "pattern \"GET /\" of app:p1 conflicts with pattern \"/assets/\" of app:p0: the \
             first matches fewer methods than the second but more paths, so neither is more \
             specific",
        ),
        (
            &["GET /", "/assets"],
            "pattern \"/assets/\" of app:p1 conflicts with pattern \"GET /\" of app:p0: the \
             first matches more methods than the second but fewer paths, so neither is more \
             specific",
        ),
        (
            &["/files", "GET /{p...}"],
            "pattern \"GET /{p...}\" of app:p1 conflicts with pattern \"/files/\" of app:p0: \
             the first matches fewer methods than the second but more paths, so neither is \
             more specific",
        ),
        (
            &["/assets", "/assets/"],
            "static mount \"/assets/\" of app:p1 is mounted already by app:p0",
        ),
    ];
    for (specs, want) in cases {
        assert_eq!(errors(specs), [*want], "{specs:?}");
    }
}

#[test]
fn conflicts_across_routers_and_all_at_once() {
    let mut b = MuxBuilder::new();
    let api = b.router("app:api", "/api");
    let root = b.router("app:root", "");
    b.route(api, "app:a", "GET", "/x", 0)
        .route(root, "app:b", "GET", "/api/x", 1);
    assert_eq!(
        text(&b.build().unwrap_err()),
        [
            "pattern \"GET /api/x\" of app:b conflicts with pattern \"GET /api/x\" of app:a: \
          both match the same requests"
        ]
    );
    // Every problem at once: bad patterns first, then each clash once, on the later one.
    let all = errors(&["GET /x", "GET /x", "GET /{", "/a", "/a", "GET /x"]);
    assert_eq!(
        all,
        [
            "pattern \"GET /{\" of app:p2: segment \"{\": a wildcard is a whole segment, \"{name}\"",
            "pattern \"GET /x\" of app:p1 conflicts with pattern \"GET /x\" of app:p0: both match \
             the same requests",
            "static mount \"/a/\" of app:p4 is mounted already by app:p3",
            "pattern \"GET /x\" of app:p5 conflicts with pattern \"GET /x\" of app:p0: both match \
             the same requests",
        ]
    );
}

#[test]
fn patterns_that_do_not_conflict() {
    for specs in [
        &["GET /users", "GET /users/"][..],
        &["GET /users/{id}", "GET /users/new"],
        &["GET /x", "POST /x"],
        &["GET /x", "HEAD /x"],
        &["GET /x/{id}", "HEAD /x/new"],
        &["OPTIONS /x", "GET /x"],
        &["GET /a/{x}/c", "POST /a/b/{y}"],
        &["GET /{x}", "GET /{x}/"],
        &["GET /{x}", "GET /{x}/{$}"],
        &["GET /{$}", "GET /"],
        &["GET /assets/{f}", "/assets"],
        &["GET /files/{p...}", "/files"],
        &["GET /{x}", "/assets"],
        &["GET /{$}", "/static"],
        &["/a", "/a/b"],
        &["/", "/a"],
    ] {
        assert_eq!(errors(specs), Vec::<String>::new(), "{specs:?}");
    }
}

#[test]
fn malformed_patterns_are_errors() {
    let wildcard = "a wildcard is a whole segment, \"{name}\"";
    let unclean =
        "a path with \".\", \"..\" or \"//\" segments never matches (requests are cleaned first)";
    let no_host = "a path must start with \"/\" (weft has no host patterns)";
    let bad_name = "a wildcard name is letters, digits and \"_\", not starting with a digit";
    let cases: &[(&str, String)] = &[
        ("GET /a/{", format!("segment \"{{\": {wildcard}")),
        ("GET /a/{x", format!("segment \"{{x\": {wildcard}")),
        ("GET /a/x}", format!("segment \"x}}\": {wildcard}")),
        ("GET /a/b{x}", format!("segment \"b{{x}}\": {wildcard}")),
        ("GET /a/{x}b", format!("segment \"{{x}}b\": {wildcard}")),
        ("GET /a/{}", "segment \"{}\": empty wildcard name".into()),
        (
            "GET /a/{...}",
            "segment \"{...}\": empty wildcard name".into(),
        ),
        ("GET /a/:", "segment \"{}\": empty wildcard name".into()),
        (
            "GET /{x...}/b",
            "\"{x...}\" must be the last segment".into(),
        ),
        ("GET /{x...}/", "\"{x...}\" must be the last segment".into()),
        ("GET /{$}/b", "\"{$}\" must be the last segment".into()),
        ("GET /{$}/", "\"{$}\" must be the last segment".into()),
        ("GET /{a}/{a}", "duplicate wildcard name \"a\"".into()),
        ("GET /:id/{id}", "duplicate wildcard name \"id\"".into()),
        ("GET /{a}/{a...}", "duplicate wildcard name \"a\"".into()),
        ("GET /{1x}", format!("segment \"{{1x}}\": {bad_name}")),
        ("GET /{a-b}", format!("segment \"{{a-b}}\": {bad_name}")),
        ("GET /{a.b}", format!("segment \"{{a.b}}\": {bad_name}")),
        ("GET a/b", no_host.into()),
        ("GET ", no_host.into()),
        ("GET /a b", "invalid character ' ' in a path".into()),
        ("GET /a?x", "invalid character '?' in a path".into()),
        ("GET /a#x", "invalid character '#' in a path".into()),
        ("GET /a\tb", "invalid character '\\t' in a path".into()),
        ("GET /a/../b", unclean.into()),
        ("GET /a//b", unclean.into()),
        ("GET /./a", unclean.into()),
        ("GET /a/.", unclean.into()),
        (
            "GET /%zz",
            "invalid percent-encoding in segment \"%zz\"".into(),
        ),
        (
            "GET /a%2",
            "invalid percent-encoding in segment \"a%2\"".into(),
        ),
        (" /x", "invalid method \"\"".into()),
        ("G(T /x", "invalid method \"G(T\"".into()),
        ("GET\n /x", "invalid method \"GET\\n\"".into()),
    ];
    for (spec, reason) in cases {
        let want = format!("pattern \"{spec}\" of app:p0: {reason}");
        assert_eq!(errors(&[spec]), [want], "{spec:?}");
    }
    let mounts: &[(&str, &str, &str)] = &[
        ("/a/{x}", "/a/{x}/", "a static mount path has no wildcards"),
        ("/a/:x", "/a/:x/", ""),
        ("assets", "assets/", no_host),
        ("/a/../b", "/a/../b/", unclean),
        ("/a?b", "/a?b/", "invalid character '?' in a path"),
    ];
    for (path, pattern, reason) in mounts {
        let want: Vec<String> = Some(reason)
            .filter(|r| !r.is_empty())
            .map(|r| format!("pattern \"{pattern}\" of app:p0: {r}"))
            .into_iter()
            .collect();
        assert_eq!(errors(&[path]), want, "{path:?}");
    }
    // Names are Go identifiers, letters of any script included.
    assert_eq!(errors(&["GET /{é}/{_x1}/{Zz9...}"]), Vec::<String>::new());
}

#[test]
fn up_to_64_methods() {
    let methods: Vec<String> = (0..62).map(|i| format!("M{i:02}")).collect();
    let specs: Vec<String> = methods.iter().map(|m| format!("{m} /x")).collect();
    let refs: Vec<&str> = specs.iter().map(String::as_str).collect();
    let m = mux(&refs);
    let Match::MethodNotAllowed { allow } = ask(&m, "GET /x") else {
        panic!("no 405");
    };
    // 62 methods and the automatic OPTIONS, the 64th method of the table.
    assert_eq!(allow.iter().count(), 63);
    assert_eq!(allow.iter().last(), Some("OPTIONS"));
    let mut more = refs.clone();
    more.push("M62 /x");
    assert_eq!(
        errors(&more),
        ["pattern \"M62 /x\" of app:p62: more than 64 methods in one table"]
    );
}
