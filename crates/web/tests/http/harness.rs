//! `TestApp`: a real Redress server on 127.0.0.1:0 over a fresh store, with a manual clock and
//! one user and token per role.

use jiff::Timestamp;
use redress_app::{App, Settings};
use redress_domain::records::Office;
use redress_domain::{ManualClock, Role};
use redress_store::{Actor, NewUser, Store, StoreOptions};
use redress_web::AppState;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub state: AppState,
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub tokens: HashMap<Role, String>,
    pub company_id: i64,
    pub backend: Backend,
    pub database_url: String,
    pg_name: Option<String>,
    _dir: Option<TempDir>,
    _files: TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A directory removed when dropped.
pub struct TempDir(pub std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn pg_admin_url() -> String {
    #[expect(
        clippy::disallowed_methods,
        reason = "tests choose their PostgreSQL server"
    )]
    let url = std::env::var("REDRESS_TEST_PG_URL");
    url.unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub const PASSWORD: &str = "correct horse battery staple";

/// Serves `state` on a free local port until `shutdown` completes: its address.
async fn listen(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = redress_web::serve(listener, state, shutdown).await;
    });
    format!("http://{addr}")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let unique = format!("{}_{}", std::process::id(), n);
        let (url, dir, pg_name) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("redress-test-{unique}"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                (
                    format!("sqlite:{}", dir.join("redress.db").display()),
                    Some(TempDir(dir)),
                    None,
                )
            }
            Backend::Postgres => {
                let name = format!("redress_t_{unique}");
                let url = redress_store::postgres::create_database(&pg_admin_url(), &name)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL is needed for this test ({e}). Start it with: \
                         pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
                        )
                    });
                (url, None, Some(name))
            }
        };
        let store = redress_store::open(
            &url,
            &StoreOptions {
                max_connections: 4,
                ..StoreOptions::default()
            },
        )
        .await
        .expect("open store");
        store.migrate().await.expect("migrate");
        let office = Office {
            code: "NYC".into(),
            name: "Test office".into(),
            time_zone: "America/New_York".into(),
            opens_at: 9,
            closes_at: 17,
        };
        store.ensure_office(&office).await.expect("office");
        let clock = Arc::new(ManualClock::new(
            "2026-03-09T14:30:00Z"
                .parse::<Timestamp>()
                .expect("instant"),
        ));
        let now = clock.now_ts();
        let system = Actor::system();
        store
            .create_unit(&system, "CALL", "Call Center", "NYC", now)
            .await
            .expect("unit");
        store
            .create_unit(&system, "HOTLINE", "Emergency Hotline", "NYC", now)
            .await
            .expect("unit");
        let company = store
            .create_company(
                &system,
                "Consolidated Edison",
                "Energy",
                Some(3_500_000),
                now,
            )
            .await
            .expect("company");
        store
            .create_company(&system, "National Grid", "Energy", Some(1_700_000), now)
            .await
            .expect("company");
        store
            .ensure_category_path(
                &system,
                &["Energy".into(), "Electric".into(), "Billing".into()],
                now,
            )
            .await
            .expect("category");
        // One password hash for everyone keeps the suite fast; each user still has its own token.
        let hash = redress_app::accounts::hash_password(PASSWORD).expect("hash");
        let mut tokens = HashMap::new();
        for role in Role::ALL {
            let user = store
                .create_user(
                    &system,
                    &NewUser {
                        email: None,
                        username: role.as_str().replace('_', "."),
                        display_name: format!("Test {role}"),
                        role: *role,
                        unit_id: None,
                        company_id: (*role == Role::Company).then_some(company.id),
                        password_hash: Some(hash.clone()),
                    },
                    now,
                )
                .await
                .expect("user");
            let (token, th) = redress_app::accounts::new_token().expect("token");
            store
                .create_token(&system, user.id, "test", &th, now)
                .await
                .expect("token row");
            tokens.insert(*role, token);
        }
        let files = std::env::temp_dir().join(format!("redress-test-files-{unique}"));
        let settings = Settings {
            attachments_dir: files.clone(),
            max_upload_bytes: 64 * 1024,
            public_url: "https://complaints.example.gov".into(),
            ..Settings::default()
        };
        let mailer = redress_app::outbox::Mailer::from_settings(
            "Redress Test <no-reply@example.org>",
            None,
            Some(&files.join("mail")),
        )
        .expect("mailer");
        let state = AppState::new(
            App::new(store.clone(), clock.clone(), office, settings).with_mailer(mailer),
            redress_web::Settings::default(),
        );
        let app_state = state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let base = listen(state, async {
            let _ = rx.await;
        })
        .await;
        TestApp {
            state: app_state,
            base,
            client: reqwest::Client::new(),
            store,
            clock,
            tokens,
            company_id: company.id,
            backend,
            database_url: url,
            pg_name,
            _dir: dir,
            _files: TempDir(files),
            shutdown: Some(tx),
        }
    }

    pub fn files_dir(&self) -> std::path::PathBuf {
        self._files.0.clone()
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Another server on the same store, clock and sessions, its office's settings changed by
    /// `change`: its address (a signed-in client's cookie is sent to it too). It runs until the
    /// test ends.
    pub async fn serve_with(&self, change: impl FnOnce(&mut Settings)) -> String {
        let mut office = (*self.state).clone();
        change(&mut office.settings);
        let state = AppState::new(office, redress_web::Settings::default());
        listen(state, std::future::pending::<()>()).await
    }

    /// A request as `role`.
    pub fn req(&self, role: Role, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(self.token(role))
    }

    pub async fn post_json(
        &self,
        role: Role,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.req(role, reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, role: Role, path: &str) -> reqwest::Response {
        self.req(role, reqwest::Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    /// Creates a case as an agent and returns its JSON.
    pub async fn create_case(&self, body: &serde_json::Value) -> serde_json::Value {
        let r = self.post_json(Role::Agent, "/api/v1/cases", body).await;
        assert_eq!(r.status(), 201, "create failed: {:?}", r.text().await);
        r.json().await.expect("json")
    }

    /// Counts rows with raw SQL, to prove that refused requests wrote nothing.
    pub async fn count(&self, table: &str) -> i64 {
        assert!(table.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.database_url)
                    .await
                    .expect("connect");
                let n: i64 = sqlx::query_scalar(&sql)
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                pool.close().await;
                n
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.database_url)
                    .await
                    .expect("connect");
                let n: i64 = sqlx::query_scalar(&sql)
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                pool.close().await;
                n
            }
        }
    }

    /// The first column of a query's rows, as text (to read what the audit log recorded).
    pub async fn sql_texts(&self, sql: &'static str) -> Vec<String> {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.database_url)
                    .await
                    .expect("connect");
                let rows: Vec<String> = sqlx::query_scalar(sql)
                    .fetch_all(&pool)
                    .await
                    .expect("query");
                pool.close().await;
                rows
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.database_url)
                    .await
                    .expect("connect");
                let rows: Vec<String> = sqlx::query_scalar(sql)
                    .fetch_all(&pool)
                    .await
                    .expect("query");
                pool.close().await;
                rows
            }
        }
    }

    /// A number from raw SQL with bound instants (`$1`, `$2`, … as microseconds): the direct
    /// counts report totals are checked against.
    pub async fn sql_count(&self, sql: &str, binds: &[i64]) -> i64 {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.database_url)
                    .await
                    .expect("connect");
                let mut q = sqlx::query_scalar::<_, i64>(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                let n = q.fetch_one(&pool).await.expect("count");
                pool.close().await;
                n
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.database_url)
                    .await
                    .expect("connect");
                let mut q = sqlx::query_scalar::<_, i64>(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                let n = q.fetch_one(&pool).await.expect("count");
                pool.close().await;
                n
            }
        }
    }

    /// Runs raw SQL against the store (for tamper tests).
    pub async fn raw_sql(&self, statements: &[&str]) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.database_url)
                    .await
                    .expect("connect");
                for s in statements {
                    sqlx::query(s).execute(&pool).await.expect("raw sql");
                }
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.database_url)
                    .await
                    .expect("connect");
                for s in statements {
                    sqlx::query(s).execute(&pool).await.expect("raw sql");
                }
                pool.close().await;
            }
        }
    }

    /// Stops the server and drops the test database.
    pub async fn finish(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(name) = self.pg_name.take() {
            drop(self.store);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let _ = redress_store::postgres::drop_database(&pg_admin_url(), &name).await;
        }
    }
}

pub trait NowTs {
    fn now_ts(&self) -> Timestamp;
}
impl NowTs for ManualClock {
    fn now_ts(&self) -> Timestamp {
        redress_domain::Clock::now(self)
    }
}

/// The contract's minimal create body.
pub fn minimal_body() -> serde_json::Value {
    serde_json::json!({"kind":"complaint","channel":"phone","description":"Billed twice for October","consumer":{"name":"Ana Díaz","email":"ana@example.org","phone":"518-555-0100","preferred_language":"es"}})
}

/// Defines `sqlite_NAME` and `postgres_NAME` from one async test body taking a `TestApp`.
#[macro_export]
macro_rules! both_stores {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::harness::TestApp::spawn($crate::harness::Backend::Sqlite).await;
                ($body)(&app).await;
                app.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::harness::TestApp::spawn($crate::harness::Backend::Postgres).await;
                ($body)(&app).await;
                app.finish().await;
            }
        }
    };
}
