//! The documentation holds together: every relative link in README.md,
//! ARCHITECTURE.md and docs/*.md names a file of the repository and, with
//! an `#anchor`, a heading of that file (as GitHub makes anchors); every
//! file in docs/ is linked from the README; the README stays a ten-minute
//! read (at most 700 lines, `cargo run --release` in its first 40); and a
//! comment in the code that cites a section (`(docs/live.md, The link)`,
//! `(README, Command line)`) names a file and a heading that exist.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, ARCHITECTURE.md and every Markdown file in docs/, as paths
/// relative to the repository.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md"), PathBuf::from("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .expect("a docs/ folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| PathBuf::from("docs").join(p.file_name().unwrap()))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The lines of a Markdown text outside fenced code blocks, with their
/// numbers (1-based).
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push((i + 1, line));
        }
    }
    out
}

/// A heading's anchor as GitHub makes it: lower case, letters, digits,
/// `-` and `_` kept, spaces made `-`, everything else (backticks,
/// punctuation) dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The headings of a Markdown text, without their `#`s.
fn headings(text: &str) -> Vec<String> {
    prose_lines(text)
        .into_iter()
        .filter_map(|(_, l)| {
            let rest = l.trim_start_matches('#');
            (rest.len() < l.len() && rest.starts_with(' ')).then(|| rest.trim().to_string())
        })
        .collect()
}

/// The anchors of a Markdown text's headings; a repeated heading gets
/// `-1`, `-2`, … as on GitHub.
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for h in headings(text) {
        let base = slug(&h);
        let mut a = base.clone();
        let mut n = 0;
        while seen.contains(&a) {
            n += 1;
            a = format!("{base}-{n}");
        }
        seen.insert(a);
    }
    seen
}

/// The targets of a line's links and images (`[text](target)`), outside
/// inline code.
fn link_targets(line: &str) -> Vec<String> {
    // Inline code spans are not links: drop what lies between backticks.
    let prose: String = line
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = Vec::new();
    let mut rest = prose.as_str();
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        match after.find(')') {
            Some(j) => {
                out.push(after[..j].to_string());
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Every broken relative link of the given files (paths relative to
/// `base`), one sentence each.
fn broken_links(base: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut broken = Vec::new();
    for file in files {
        let text = fs::read_to_string(base.join(file)).unwrap();
        for (n, line) in prose_lines(&text) {
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (path, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let resolved = if path.is_empty() {
                    file.clone()
                } else {
                    normalize(&file.parent().unwrap().join(path))
                };
                let at = format!("{}:{n}: ({target})", file.display());
                if !base.join(&resolved).exists() {
                    broken.push(format!("{at}: no file {}", resolved.display()));
                    continue;
                }
                if let Some(anchor) = anchor {
                    let Ok(target_text) = fs::read_to_string(base.join(&resolved)) else {
                        broken.push(format!("{at}: an anchor into a folder"));
                        continue;
                    };
                    if !anchors(&target_text).contains(anchor) {
                        broken.push(format!(
                            "{at}: no heading in {} has the anchor #{anchor}",
                            resolved.display()
                        ));
                    }
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_resolves() {
    let broken = broken_links(&root(), &markdown_files());
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The checker itself, on a small tree: it must see a missing file and a
/// missing anchor, in a link and in an image, and nothing in code.
#[test]
fn the_checker_finds_a_missing_file_and_a_missing_anchor() {
    let base = std::env::temp_dir().join(format!("tcpscope-docs-links-{}", std::process::id()));
    fs::create_dir_all(base.join("docs")).unwrap();
    fs::write(base.join("README.md"), "# tcpscope\n\n## `in` and `out`\n").unwrap();
    fs::write(
        base.join("docs/x.md"),
        "# X\n\n## X\n\n[a](../README.md#in-and-out) [b](#x-1) [c](#x-2)\n\
         ![d](../missing.svg) `[e](missing-too.md)`\n\n```\n[f](fenced.md)\n```\n\
         [g](../README.md#tcpscope) [h](../README.md#nope)\n",
    )
    .unwrap();
    let broken = broken_links(&base, &[PathBuf::from("docs/x.md")]);
    fs::remove_dir_all(&base).unwrap();
    assert_eq!(
        broken,
        [
            "docs/x.md:5: (#x-2): no heading in docs/x.md has the anchor #x-2",
            "docs/x.md:6: (../missing.svg): no file missing.svg",
            "docs/x.md:11: (../README.md#nope): no heading in README.md has the anchor #nope",
        ]
    );
}

#[test]
fn every_docs_file_is_linked_from_the_readme() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let linked: HashSet<String> = prose_lines(&readme)
        .into_iter()
        .flat_map(|(_, l)| link_targets(l))
        .map(|t| t.split('#').next().unwrap().to_string())
        .collect();
    for f in markdown_files().iter().filter(|f| f.starts_with("docs")) {
        let f = f.to_str().unwrap();
        assert!(linked.contains(f), "the README links no {f}");
    }
}

#[test]
fn the_readme_is_short_and_says_how_to_run_it_first() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= 700, "the README has {lines} lines; at most 700");
    assert!(
        readme
            .lines()
            .take(40)
            .any(|l| l.contains("cargo run --release")),
        "`cargo run --release` must be in the README's first 40 lines"
    );
}

/// The text of a Rust file's comments, each run of comment lines joined
/// into one line, so that a citation broken over two lines reads whole.
fn comment_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut run = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(c) = t.strip_prefix("//") {
            let c = c.trim_start_matches(['/', '!']);
            run.push(' ');
            run.push_str(c.trim());
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every citation of a document in a comment: (the file cited, what follows
/// it after `, ` or ` (`, where a section's title begins).
fn citations(comment: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = comment;
    loop {
        let readme = rest.find("README,").map(|i| (i, "README".len()));
        let docs = rest.match_indices("docs/").find_map(|(i, _)| {
            let name = rest[i + 5..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len() - i - 5);
            rest[i + 5 + name..]
                .starts_with(".md")
                .then_some((i, 5 + name + 3))
        });
        let Some((i, len)) = [readme, docs].into_iter().flatten().min() else {
            break;
        };
        let file = &rest[i..i + len];
        let after = &rest[i + len..];
        let section = after
            .strip_prefix(", ")
            .or_else(|| after.strip_prefix(" ("))
            .unwrap_or("");
        let file = if file == "README" { "README.md" } else { file };
        out.push((file.to_string(), section.to_string()));
        rest = after;
    }
    out
}

#[test]
fn comments_cite_sections_that_exist() {
    let mut files = Vec::new();
    for d in ["src", "tests", "benches", "examples"] {
        rust_files(&root().join(d), &mut files);
    }
    let mut wrong = Vec::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        for run in comment_runs(&text) {
            for (doc, section) in citations(&run) {
                let Ok(doc_text) = fs::read_to_string(root().join(&doc)) else {
                    wrong.push(format!("{}: cites {doc}, which is not there", f.display()));
                    continue;
                };
                // What follows the file is a section when it starts with a
                // capital (`The link: …`); anything else is prose.
                if !section.starts_with(|c: char| c.is_uppercase()) {
                    continue;
                }
                if !headings(&doc_text)
                    .iter()
                    .any(|h| section.starts_with(h.as_str()))
                {
                    wrong.push(format!(
                        "{}: cites {doc}, \"{}…\", which has no such heading",
                        f.display(),
                        section.chars().take(40).collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
