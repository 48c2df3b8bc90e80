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

/// The graph in docs/captures.md (Graphs for slides) is one this command
/// made.
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
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/captures.md")).unwrap();
    assert!(doc.contains(
        "tcpscope demo bulk-with-loss --headless --record /tmp/b.rec --events /dev/null\n\
         tcpscope plot /tmp/b.rec -o assets/bulk-with-loss-graph.svg --lang en"
    ));
    assert!(doc.contains("](../assets/bulk-with-loss-graph.svg)"));
}

/// A recording of the `handshake` demo: its one connection carries a SYN,
/// a SYN+ACK and an ACK, and no data.
fn record_handshake(dir: &Path) -> String {
    let rec = dir.join("h.rec");
    let rec = rec.to_str().unwrap().to_string();
    let out = tcpscope(&[
        "demo",
        "handshake",
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

#[test]
fn a_handshake_only_recording_is_refused_in_one_sentence() {
    // docs/captures.md, Graphs for slides: a recording with no connection that
    // carried data is one sentence and exit code 1, and no SVG.
    let dir = temp_dir("handshake");
    let rec = record_handshake(&dir);
    let svg = dir.join("h.svg");
    let svg = svg.to_str().unwrap();
    let out = tcpscope(&["plot", &rec, "-o", svg]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("tcpscope: {rec} has no connection that carried data: nothing to plot\n")
    );
    assert!(!Path::new(svg).exists());
    // Naming that connection does not make it plottable.
    let out = tcpscope(&["plot", &rec, "-o", svg, "--conn", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let conn = std::fs::read_to_string(&rec)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["host"] == "client" && e["conn"].is_string())
        .map(|e| e["conn"].as_str().unwrap().to_string())
        .unwrap();
    assert_eq!(
        err,
        format!("tcpscope: --conn 1 names {conn}, which carried no data: nothing to plot\n")
    );
    assert!(!Path::new(svg).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The tick labels of every axis of an SVG, in order: a y axis's are
/// right-aligned in one column (the upper plot's above the lower's), an x
/// axis's centred in one row.
fn axis_labels(svg: &str) -> Vec<Vec<String>> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    // (which axis, its column or row, upper plot) → its labels
    type Axis<'a> = ((&'a str, String, bool), Vec<String>);
    let mut axes: Vec<Axis> = Vec::new();
    for n in doc.descendants().filter(|n| n.tag_name().name() == "text") {
        let text = n.text().unwrap_or("").trim().to_string();
        if text.trim_end_matches(['K', 'M']).parse::<f64>().is_err() {
            continue;
        }
        let at = |a: &str| n.attribute(a).unwrap().to_string();
        // The plots split the 900-pixel height at 55 %.
        let upper = at("y").parse::<f64>().unwrap() < 495.0;
        let key = match n.attribute("text-anchor") {
            Some("end") => ("y axis", at("x"), upper),
            Some("middle") => ("x axis", at("y"), upper),
            _ => continue,
        };
        match axes.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(text),
            None => axes.push((key, vec![text])),
        }
    }
    axes.into_iter().map(|(_, v)| v).collect()
}

#[test]
fn tick_labels_never_repeat_on_a_flat_series() {
    // One data segment at one instant: the time axis is 0.5 s ± 1 ms and
    // the windows axis one byte high. Every label tells its tick apart.
    let dir = temp_dir("flat");
    let rec = dir.join("one.rec");
    std::fs::write(
        &rec,
        "{\"tcpscope_recording\":1}\n\
         {\"t\":0.5,\"host\":\"client\",\"conn\":\"10.0.0.1:40000<->10.0.0.2:80\",\
         \"kind\":\"segment\",\"dir\":\"out\",\"id\":1,\"flags\":[\"ACK\",\"PSH\"],\
         \"seq\":1001,\"ack\":2001,\"len\":100,\"win\":65535,\"opts\":[],\"retransmit\":false}\n",
    )
    .unwrap();
    let svg = dir.join("one.svg");
    let out = tcpscope(&["plot", rec.to_str().unwrap(), "-o", svg.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let axes = axis_labels(&std::fs::read_to_string(&svg).unwrap());
    let time: Vec<String> = [
        "0.4990", "0.4992", "0.4994", "0.4996", "0.4998", "0.5000", "0.5002", "0.5004", "0.5006",
        "0.5008", "0.5010",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let seq: Vec<String> = (0..=10).map(|i| (i * 10).to_string()).collect();
    let win: Vec<String> = ["0", "0.2", "0.4", "0.6", "0.8", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(axes, vec![seq, time.clone(), win, time]);
    let _ = std::fs::remove_dir_all(&dir);
}
