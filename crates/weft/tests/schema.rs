//! End-to-end: `weft schema`, the schema warnings and `--format json` of `weft check`,
//! `weft completions`, and the examples of every subcommand's help (issue 16, items 7
//! and 8), with the built binary.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, weft, weft_in, write_app as app};
use serde_json::Value as Json;

/// `weft <args>`, or `weft -C <dir> <args>`.
fn run(dir: Option<&Path>, args: &[&str]) -> Run {
    match dir {
        Some(dir) => weft(dir, args),
        None => weft_in(None, args),
    }
}

/// The schema `weft schema` prints, parsed.
fn printed_schema() -> Json {
    let out = run(None, &["schema"]);
    assert!(out.code == 0, "{}", out.stderr.clone());
    serde_json::from_str(&out.stdout).expect("weft schema prints JSON")
}

/// `weft check --format json` of `dir`: the exit code and the problems, parsed.
fn check_json(dir: &Path) -> (i32, Vec<Json>) {
    let out = run(Some(dir), &["check", "--format", "json"]);
    let problems: Json = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            out.stdout.clone(),
            out.stderr.clone()
        )
    });
    let Json::Array(problems) = problems else {
        panic!("not an array: {problems}");
    };
    (out.code, problems)
}

/// The problem about `field` of `entry`.
fn problem<'a>(problems: &'a [Json], entry: &str, field: &str) -> &'a Json {
    problems
        .iter()
        .find(|p| p["entry"] == entry && p["field"] == field)
        .unwrap_or_else(|| panic!("no problem about {entry} {field} in {problems:#?}"))
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let schema = printed_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::meta::validate(&schema).expect("valid against the draft's meta-schema");
    jsonschema::draft202012::new(&schema).expect("compiles");
    // Unknown keys stay allowed in entries (Wippy apps carry extra fields).
    assert_eq!(schema["$defs"]["entry"]["additionalProperties"], true);
}

#[test]
fn every_known_kind_has_a_schema_branch() {
    let schema = printed_schema();
    let defs = &schema["$defs"];
    let branches: Vec<String> = defs["entry"]["allOf"]
        .as_array()
        .expect("allOf")
        .iter()
        .map(|b| b["if"]["$ref"].as_str().unwrap_or_default().to_string())
        .collect();
    let known = weft::known_kinds();
    assert!(known.contains(&"function.lua") && known.contains(&"http.endpoint"));
    assert!(known.contains(&"registry.entry"), "internal kinds too");
    for kind in &known {
        assert!(
            branches.contains(&format!("#/$defs/is/{kind}")),
            "no branch for {kind}"
        );
        assert_eq!(defs["is"][kind]["properties"]["kind"]["const"], *kind);
        assert!(
            defs["fields"][kind].is_object(),
            "no fields branch for {kind}"
        );
        let fields = &defs["kind"][kind];
        assert!(fields.is_object(), "no fields for {kind}");
        assert!(
            fields["description"].is_string(),
            "{kind} has no description"
        );
        assert_eq!(
            fields["additionalProperties"], true,
            "{kind} must allow extra keys"
        );
    }
    // Nor a kind weft no longer knows.
    assert_eq!(branches.len(), known.len(), "{branches:?} vs {known:?}");
    let examples = defs["entry"]["properties"]["kind"]["examples"]
        .as_array()
        .unwrap();
    let mut listed: Vec<&str> = examples.iter().filter_map(Json::as_str).collect();
    listed.sort_unstable();
    assert_eq!(listed, known, "the kind suggestions");
}

#[test]
fn every_example_app_validates() {
    let schema = printed_schema();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut apps: Vec<PathBuf> = Vec::new();
    for parent in ["examples", "tests/apps"] {
        for dir in std::fs::read_dir(repo.join(parent)).unwrap() {
            let dir = dir.unwrap().path();
            if dir.is_dir() {
                apps.push(dir);
            }
        }
    }
    let mut validated = 0;
    for root in &apps {
        let opts = weft_registry::LoadOptions {
            root: root.clone(),
            ..weft_registry::LoadOptions::default()
        };
        for file in weft_registry::definition_files(&opts) {
            let body = std::fs::read_to_string(&file.path).unwrap();
            let doc: Json = if file.path.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&body).unwrap()
            } else {
                serde_yaml_ng::from_str(&body).unwrap()
            };
            if doc.get("namespace").is_none() {
                continue;
            }
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", file.path.display());
            validated += 1;
        }
    }
    assert!(
        validated >= 7,
        "only {validated} definition files in {apps:?}"
    );
}

/// A terminal host with a field of the wrong type weft itself ignores, and a command.
const WRONG_TYPE: &str = "namespace: app
entries:
  - name: terminal
    kind: terminal.host
    hide_logs: \"yes\"
  - name: noop
    kind: process.lua
    meta: {command: {name: noop}}
    source: \"return {main = function() return 0 end}\"
    method: main
";

#[test]
fn a_wrong_typed_field_is_a_warning_with_its_place() {
    let dir = app(&[("src/_index.yaml", WRONG_TYPE)]);
    let out = run(Some(dir.path()), &["check"]);
    let stderr = out.stderr.clone();
    assert_eq!(Some(out.code), Some(0), "a warning does not fail: {stderr}");
    assert!(
        stderr.contains(
            "warning: src/_index.yaml:5:5: entry app:terminal (terminal.host): field hide_logs: schema: \"yes\" is not of type \"boolean\""
        ),
        "{stderr}"
    );
    assert!(out.stdout.clone().starts_with("ok: 2 entries"));

    let (code, problems) = check_json(dir.path());
    assert_eq!(code, 0);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let w = problem(&problems, "app:terminal", "hide_logs");
    assert_eq!(w["severity"], "warning");
    assert_eq!(w["file"], "src/_index.yaml");
    assert_eq!(
        (w["line"].as_u64(), w["column"].as_u64()),
        (Some(5), Some(5))
    );
    assert_eq!(w["kind"], "terminal.host");
}

#[test]
fn check_format_json_gives_every_problem_with_positions() {
    let dir = app(&[(
        "src/_index.yaml",
        "namespace: app
entries:
  - name: terminal
    kind: terminal.host
    hide_logs: \"yes\"
  - name: f
    kind: function.lua
    source: \"return {run = function() end}\"
    method: run
    pool: {type: static, size: big}
",
    )]);
    let (code, problems) = check_json(dir.path());
    assert_eq!(code, 1, "an error fails the check: {problems:#?}");
    // The schema's warning about pool.size is weft's error already: said once.
    assert_eq!(problems.len(), 2, "{problems:#?}");
    let error = problem(&problems, "app:f", "pool.size");
    assert_eq!(error["severity"], "error");
    assert_eq!(error["file"], "src/_index.yaml");
    assert_eq!(error["kind"], "function.lua");
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(10), Some(26))
    );
    assert!(error["message"].as_str().unwrap().contains("big"));
    let warning = problem(&problems, "app:terminal", "hide_logs");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(
        (warning["line"].as_u64(), warning["column"].as_u64()),
        (Some(5), Some(5))
    );
    for key in [
        "severity", "file", "line", "column", "entry", "kind", "field", "message",
    ] {
        assert!(error.get(key).is_some(), "{key} missing from {error}");
    }

    // A file that does not parse: its error has the parser's line and column; the rest
    // is null.
    let dir = app(&[(
        "src/_index.yaml",
        "namespace: app\nentries: [\n  {name: x\n",
    )]);
    let (code, problems) = check_json(dir.path());
    assert_eq!(code, 1);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert_eq!(p["severity"], "error");
    assert_eq!(p["file"], "src/_index.yaml");
    assert!(p["line"].is_u64() && p["column"].is_u64(), "{p}");
    assert!(p["entry"].is_null() && p["kind"].is_null() && p["field"].is_null());
}

#[test]
fn completions_name_the_subcommands() {
    let out = run(None, &["completions", "bash"]);
    assert!(out.code == 0);
    let script = out.stdout.clone();
    assert!(script.contains("complete -F _weft"), "{script}");
    for sub in ["run", "check", "test", "inspect", "schema", "completions"] {
        assert!(script.contains(sub), "{sub} missing");
    }
    for shell in ["zsh", "fish"] {
        let out = run(None, &["completions", shell]);
        assert!(out.code == 0);
        let script = out.stdout.clone();
        assert!(
            script.contains("weft") && script.contains("schema"),
            "{shell}: {script}"
        );
    }
    let out = run(None, &["completions", "tcsh"]);
    assert_eq!(Some(out.code), Some(2), "an unknown shell is a usage error");
}

#[test]
fn every_help_lists_examples() {
    let out = run(None, &["--help"]);
    let help = out.stdout.clone();
    assert!(help.contains("\nExamples:\n"), "{help}");
    let commands: Vec<String> = help
        .split("Commands:\n")
        .nth(1)
        .expect("a command list")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    assert!(commands.len() >= 6, "{commands:?}");
    for command in &commands {
        let out = run(None, &[command, "--help"]);
        let help = out.stdout.clone();
        assert!(
            help.contains("\nExamples:\n"),
            "weft {command} --help: {help}"
        );
        assert!(
            help.contains(&format!("weft {command}")) || help.contains("weft -C"),
            "{help}"
        );
    }
}
