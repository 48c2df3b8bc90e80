//! The config file: where its values land among the layers (defaults <
//! profile < scenario < config file < flags), its errors, and the command
//! line around it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use clap::Parser;

use tcpscope::cli::Cli;
use tcpscope::scenario::Scenario;
use tcpscope::settings;
use tcpscope::tcp::{Config, Profile};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpscope-config-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The client's engine configuration for `scenario` under the command line
/// `args` with a config file holding `file`.
fn client(file: &str, scenario: &str, args: &[&str]) -> Config {
    let d = dir("layers");
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = d.join(format!("c{n}.toml"));
    std::fs::write(&path, file).unwrap();
    let mut argv = vec!["tcpscope", "--config", path.to_str().unwrap()];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let common = tcpscope::config::apply(cli.common).unwrap();
    let sc = Scenario::parse("t.toml", scenario).unwrap();
    settings::demo_host(&sc, &sc.client, &common.overrides())
}

const SCENARIO: &str = r#"
name = "t"
title = "t"
profile = "rfc"
[client]
msl = 10.0
[[step]]
at = 0.0
host = "server"
do = "listen"
port = 80
"#;

#[test]
fn a_flag_wins_over_the_config_file_which_wins_over_the_scenario() {
    // The config file's msl over the scenario's, a flag's over both.
    let c = client("msl = 30", SCENARIO, &[]);
    assert_eq!(c.msl, Duration::from_secs(30));
    let c = client("msl = 30", SCENARIO, &["--msl", "5"]);
    assert_eq!(c.msl, Duration::from_secs(5));
    // Without it the scenario's.
    let c = client("", SCENARIO, &[]);
    assert_eq!(c.msl, Duration::from_secs(10));
}

#[test]
fn the_config_files_profile_wins_over_the_scenarios_and_a_flag_over_it() {
    let linux = Config::profile(Profile::Linux);
    let rfc = Config::profile(Profile::Rfc);
    let classroom = Config::profile(Profile::Classroom);
    assert_ne!(linux.rto_min, rfc.rto_min, "the profiles differ here");
    // The scenario says rfc; the config file linux: linux.
    let c = client("profile = \"linux\"", SCENARIO, &[]);
    assert_eq!(c.rto_min, linux.rto_min);
    // --profile classroom over both.
    let c = client("profile = \"linux\"", SCENARIO, &["--profile", "classroom"]);
    assert_eq!(c.rto_min, classroom.rto_min);
    // No config file: the scenario's.
    let c = client("", SCENARIO, &[]);
    assert_eq!(c.rto_min, rfc.rto_min);
    // The scenario's own host value still sits over the profile, under the
    // config file.
    let c = client("profile = \"linux\"", SCENARIO, &[]);
    assert_eq!(c.msl, Duration::from_secs(10));
}

#[test]
fn limits_rules_and_language_come_from_the_file_unless_flags_give_them() {
    let file = "max-connections = 7\nloss = \"5\"\nlang = \"zh\"\ntheme = \"light\"\n";
    let c = client(file, SCENARIO, &[]);
    assert_eq!(c.max_connections, 7);
    let c = client(file, SCENARIO, &["--max-connections", "9"]);
    assert_eq!(c.max_connections, 9);

    let d = dir("rules");
    let path = d.join("c.toml");
    std::fs::write(&path, file).unwrap();
    let p = path.to_str().unwrap();
    let common = |args: &[&str]| {
        let mut argv = vec!["tcpscope", "--config", p];
        argv.extend_from_slice(args);
        tcpscope::config::apply(Cli::try_parse_from(argv).unwrap().common).unwrap()
    };
    let ov = common(&[]).overrides();
    assert_eq!(ov.rules.len(), 1, "the file's loss rule");
    assert_eq!(ov.lang, Some(tcpscope::scenario::Lang::Zh));
    let ov = common(&["--drop", "in:S:1", "--lang", "en"]).overrides();
    assert_eq!(ov.rules.len(), 1);
    assert_eq!(
        ov.rules[0].to_string(),
        tcpscope::fault::Rule::parse_drop("in:S:1")
            .unwrap()
            .to_string()
    );
    assert_eq!(ov.lang, Some(tcpscope::scenario::Lang::En));
    use tcpscope::ui::theme::ThemeName;
    assert_eq!(common(&[]).ui().theme.name, ThemeName::Light);
    assert_eq!(
        common(&["--theme", "mono"]).ui().theme.name,
        ThemeName::Mono
    );
}

fn run(args: &[&str], xdg: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .env("LANG", "C")
        .env("XDG_CONFIG_HOME", xdg)
        .output()
        .unwrap()
}

#[test]
fn missing_default_file_is_fine_missing_named_file_is_an_error() {
    let xdg = dir("xdg-empty");
    let out = run(&["scenarios"], &xdg);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run(
        &["--config", "/nonexistent/tcpscope.toml", "scenarios"],
        &xdg,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("tcpscope: cannot read the config file /nonexistent/tcpscope.toml"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one sentence: {err}");
}

#[test]
fn the_default_file_is_read_and_a_wrong_one_is_one_sentence() {
    let xdg = dir("xdg-bad");
    std::fs::create_dir_all(xdg.join("tcpscope")).unwrap();
    let path = xdg.join("tcpscope/config.toml");
    std::fs::write(&path, "# mine\ntheme = \"sepia\"\n").unwrap();
    let out = run(&["scenarios"], &xdg);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!(
            "tcpscope: the config file {}, line 2, key `theme`: \"sepia\" is not a theme: dark, light, high-contrast or mono",
            path.display()
        )
    );
    // `tcpscope config` still prints the default file.
    let out = run(&["config"], &xdg);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# msl = 120"), "{text}");
    assert!(
        text.contains("[keys]") && text.contains("# zoom = \"z\""),
        "{text}"
    );
    // The printed file, written as the default, is read without complaint.
    std::fs::write(&path, &text).unwrap();
    let out = run(&["scenarios"], &xdg);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A headless demo takes the file's settings: its duration.
    std::fs::write(&path, "duration = 0.2\n").unwrap();
    let out = run(&["--headless", "demo", "handshake"], &xdg);
    assert!(out.status.success());
    let last = String::from_utf8(out.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert!(last["t"].as_f64().unwrap() <= 0.2, "{last}");
}
