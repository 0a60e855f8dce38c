//! The rules the crates keep, checked on every test run: dependencies point one way
//! (domain ← store ← app ← {web, binary}; web ← binary), only the store names the database
//! drivers, only the web crate names the HTTP framework, the web crate reaches the store only
//! through the application's use cases, and no source file grows past what a reader can hold.

use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_path_buf()
}

/// The names in a `[dependencies]` table (not dev-dependencies: tests may reach further).
fn dependencies(krate: &str) -> Vec<String> {
    let path = crates_dir().join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("Cargo.toml");
    let mut out = Vec::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once(['=', '.']) {
            let name = name.trim();
            if !name.is_empty() && !name.starts_with('#') {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// Every Rust file under a folder.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Lines of code (not comments) in a crate's `src/` that contain `needle`.
fn code_lines_naming(krate: &str, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for f in rust_files(&crates_dir().join(krate).join("src")) {
        let text = std::fs::read_to_string(&f).expect("source");
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if code.contains(needle) {
                hits.push(format!("{}:{}: {}", f.display(), i + 1, code));
            }
        }
    }
    hits
}

const OURS: [&str; 4] = [
    "redress-domain",
    "redress-store",
    "redress-app",
    "redress-web",
];

fn ours(krate: &str) -> Vec<String> {
    dependencies(krate)
        .into_iter()
        .filter(|d| OURS.contains(&d.as_str()))
        .collect()
}

#[test]
fn dependencies_point_one_way() {
    assert_eq!(
        ours("domain"),
        Vec::<String>::new(),
        "the domain reaches nothing of ours"
    );
    assert_eq!(
        ours("store"),
        ["redress-domain"],
        "the store builds on the domain only"
    );
    assert_eq!(
        ours("app"),
        ["redress-domain", "redress-store"],
        "the application builds on the domain and the store only"
    );
    assert_eq!(
        ours("web"),
        ["redress-domain", "redress-app"],
        "the web crate builds on the application (and the domain's vocabulary), never the store"
    );
    for d in [
        "redress-domain",
        "redress-store",
        "redress-app",
        "redress-web",
    ] {
        assert!(
            ours("redress").contains(&d.to_string()),
            "the binary uses {d}"
        );
    }
}

#[test]
fn only_the_store_names_the_database_drivers() {
    for krate in ["domain", "app", "web", "redress"] {
        let deps = dependencies(krate);
        for driver in ["sqlx", "rusqlite", "libsqlite3-sys"] {
            assert!(
                !deps.iter().any(|d| d == driver),
                "{krate} depends on {driver}"
            );
        }
        for needle in ["sqlx::", "rusqlite::"] {
            let hits = code_lines_naming(krate, needle);
            assert!(
                hits.is_empty(),
                "{krate} names {needle}:\n{}",
                hits.join("\n")
            );
        }
    }
}

#[test]
fn only_the_web_crate_names_http() {
    for krate in ["domain", "store", "app", "redress"] {
        let deps = dependencies(krate);
        for framework in ["axum", "utoipa-axum", "askama", "tower", "hyper"] {
            assert!(
                !deps.iter().any(|d| d == framework),
                "{krate} depends on {framework}"
            );
        }
        for needle in ["axum::", "StatusCode", "Set-Cookie", "HeaderMap"] {
            let hits = code_lines_naming(krate, needle);
            assert!(
                hits.is_empty(),
                "{krate} names {needle}:\n{}",
                hits.join("\n")
            );
        }
    }
}

#[test]
fn the_web_crate_reaches_the_store_only_through_use_cases() {
    // Handlers call the application (`state.open_case(..)`), never the store.
    let hits = code_lines_naming("web", ".store");
    assert!(
        hits.is_empty(),
        "the web crate calls the store directly:\n{}",
        hits.join("\n")
    );
    let hits = code_lines_naming("redress", "redress_web::");
    let allowed = [
        "redress_web::Settings",
        "redress_web::AppState",
        "redress_web::serve",
        "redress_web::openapi_json",
    ];
    let other: Vec<&String> = hits
        .iter()
        .filter(|h| !allowed.iter().any(|a| h.contains(a)))
        .collect();
    assert!(
        other.is_empty(),
        "the binary uses the web crate for more than serving HTTP:\n{other:?}"
    );
}

#[test]
fn no_source_file_is_too_long_to_read() {
    let mut long = Vec::new();
    for f in rust_files(&crates_dir()) {
        if f.components().any(|c| c.as_os_str() == "target") {
            continue;
        }
        let lines = std::fs::read_to_string(&f).map_or(0, |t| t.lines().count());
        if lines > 1_200 {
            long.push(format!("{} ({lines} lines)", f.display()));
        }
    }
    assert!(
        long.is_empty(),
        "split these files by concern:\n{}",
        long.join("\n")
    );
}
