//! `tcpscope plot`: a recording's graph of one connection as an SVG.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tcpscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .expect("run tcpscope")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcpscope-plot-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn record_bulk_with_loss(dir: &Path) -> String {
    let rec = dir.join("b.rec");
    let rec = rec.to_str().unwrap().to_string();
    let out = tcpscope(&[
        "demo",
        "bulk-with-loss",
        "--headless",
        "--record",
        &rec,
        "--events",
        "/dev/null",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    rec
}

/// Every text element of the SVG, which must be well-formed XML.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.tag_name().name() == "text")
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn plot_of_bulk_with_loss_has_both_plots_and_retransmissions() {
    let dir = temp_dir("bulk");
    let rec = record_bulk_with_loss(&dir);
    let en = dir.join("en.svg");
    let out = tcpscope(&["plot", &rec, "-o", en.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = texts(&std::fs::read_to_string(&en).unwrap());
    for want in [
        "time–sequence",
        "windows",
        "time (s)",
        "sequence (relative)",
        "bytes",
        "cumulative ACK",
        "cwnd",
    ] {
        assert!(t.iter().any(|x| x == want), "no {want:?} in {t:?}");
    }
    // A legend entry only when the plot has such marks.
    assert!(
        t.iter().any(|x| x.starts_with("retransmitted (")),
        "no retransmission marks: {t:?}"
    );

    let zh = dir.join("zh.svg");
    let out = tcpscope(&["plot", &rec, "-o", zh.to_str().unwrap(), "--lang", "zh"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = texts(&std::fs::read_to_string(&zh).unwrap());
    for want in [
        "时间–序号",
        "窗口",
        "时间 (s)",
        "序号（相对）",
        "字节",
        "累计 ACK",
    ] {
        assert!(t.iter().any(|x| x == want), "no {want:?} in {t:?}");
    }
    assert!(t.iter().any(|x| x.starts_with("重传（")), "{t:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plot_conn_by_either_name_or_index_and_a_list_when_none_matches() {
    let dir = temp_dir("conn");
    let rec = record_bulk_with_loss(&dir);
    let svg = dir.join("a.svg");
    let svg = svg.to_str().unwrap();
    assert!(
        tcpscope(&["plot", &rec, "-o", svg, "--conn", "1"])
            .status
            .success()
    );
    let by_index = std::fs::read_to_string(svg).unwrap();
    // The name from the server's side, as its events write it.
    let ev = std::fs::read_to_string(&rec).unwrap();
    let server = ev
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["host"] == "server" && e["conn"].as_str().is_some_and(|c| !c.ends_with(":0")))
        .map(|e| e["conn"].as_str().unwrap().to_string())
        .expect("a server event with a connection");
    assert!(
        tcpscope(&["plot", &rec, "-o", svg, "--conn", &server])
            .status
            .success()
    );
    assert_eq!(std::fs::read_to_string(svg).unwrap(), by_index);

    let out = tcpscope(&["plot", &rec, "-o", svg, "--conn", "1.2.3.4:5<->6.7.8.9:10"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("1 10.0.0.1:"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plot_errors_are_one_sentence() {
    let dir = temp_dir("errors");
    let not_rec = dir.join("notes.txt");
    std::fs::write(&not_rec, "just some notes\n").unwrap();
    let svg = dir.join("x.svg");
    let svg = svg.to_str().unwrap();
    for file in [not_rec.to_str().unwrap(), "/nonexistent/b.rec"] {
        let out = tcpscope(&["plot", file, "-o", svg]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(file), "{err}");
    }
    // A recording with no data connection.
    let empty = dir.join("empty.rec");
    std::fs::write(&empty, "{\"tcpscope_recording\":1}\n").unwrap();
    let out = tcpscope(&["plot", empty.to_str().unwrap(), "-o", svg]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no connection"));
    assert!(!Path::new(svg).exists());
    // -o is required: a usage error.
    let out = tcpscope(&["plot", not_rec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The README's graph is one this command made (README, Graphs for slides).
#[test]
fn the_readme_graph_is_a_bulk_with_loss_plot() {
    let svg = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/bulk-with-loss-graph.svg"
    ))
    .unwrap();
    let t = texts(&svg);
    for want in ["time (s)", "sequence (relative)", "bytes", "cwnd"] {
        assert!(t.iter().any(|x| x == want), "no {want:?} in {t:?}");
    }
    assert!(t.iter().any(|x| x.starts_with("retransmitted (")), "{t:?}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains(
        "tcpscope demo bulk-with-loss --headless --record /tmp/b.rec --events /dev/null\n\
         tcpscope plot /tmp/b.rec -o assets/bulk-with-loss-graph.svg --lang en"
    ));
    assert!(readme.contains("](assets/bulk-with-loss-graph.svg)"));
}
