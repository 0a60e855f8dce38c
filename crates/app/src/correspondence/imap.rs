//! The IMAP poller `serve` runs for each configured mailbox: it takes every message not yet
//! taken (`NOT KEYWORD RedressTaken`) through the one intake use case, then moves it to the
//! mailbox's done folder or flags it (`\Seen RedressTaken`), and waits for new mail with IDLE
//! (or polls). Two nodes may fetch the same message: the store's claim on its `Message-ID`
//! lets one take it in; the other finds it taken (or busy, and leaves it for the next round).
//! A restart finds taken messages flagged or moved, and the claim would refuse them anyway.

use super::Receipt;
use crate::App;
use async_imap::Client;
use futures_util::TryStreamExt;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The keyword a taken message carries when it stays in its folder.
pub const TAKEN: &str = "RedressTaken";

/// How a mailbox's connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS, port 993).
    Tls,
    /// A plain connection upgraded with STARTTLS before signing in (port 143).
    Starttls,
    /// No encryption: only for a server on the same host or a private network.
    None,
}

/// A mailbox to take mail from.
#[derive(Clone)]
pub struct ImapMailbox {
    /// Names the mailbox in logs and as the message's source (`imap:NAME`).
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub password: String,
    /// The folder mail arrives in.
    pub folder: String,
    /// Where taken messages are moved; without it they are flagged and stay.
    pub done_folder: Option<String>,
    /// How long to wait between rounds (and the longest IDLE).
    pub poll: Duration,
    /// Wait with IDLE when the server offers it, else poll.
    pub idle: bool,
}

impl Debug for ImapMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapMailbox")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("folder", &self.folder)
            .field("done_folder", &self.done_folder)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("connecting to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("the server closed the connection before greeting")]
    NoGreeting,
    #[error("taking a message in: {0}")]
    Intake(#[from] crate::AppError),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Stream for T {}
type Conn = Box<dyn Stream>;

async fn tls(host: &str, tcp: Conn) -> Result<Conn, ImapError> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ImapError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| ImapError::Tls(e.to_string()))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| ImapError::Tls(e.to_string()))?;
    Ok(Box::new(stream))
}

async fn connect(mb: &ImapMailbox) -> Result<async_imap::Session<Conn>, ImapError> {
    let address = format!("{}:{}", mb.host, mb.port);
    let tcp = TcpStream::connect(&address)
        .await
        .map_err(|e| ImapError::Connect(address.clone(), e))?;
    let mut conn: Conn = Box::new(tcp);
    if mb.security == Security::Tls {
        conn = tls(&mb.host, conn).await?;
    }
    let mut client = Client::new(conn);
    client
        .read_response()
        .await
        .map_err(|e| ImapError::Connect(address.clone(), e))?
        .ok_or(ImapError::NoGreeting)?;
    if mb.security == Security::Starttls {
        client.run_command_and_check_ok("STARTTLS", None).await?;
        let upgraded = tls(&mb.host, client.into_inner()).await?;
        client = Client::new(upgraded);
    }
    client
        .login(&mb.user, &mb.password)
        .await
        .map_err(|(e, _)| ImapError::Imap(e))
}

/// One round: takes every message of the folder not yet taken. Returns how many were taken in.
async fn take_new(
    app: &App,
    session: &mut async_imap::Session<Conn>,
    mb: &ImapMailbox,
) -> Result<usize, ImapError> {
    session.select(&mb.folder).await?;
    let mut uids: Vec<u32> = session
        .uid_search(format!("NOT KEYWORD {TAKEN} NOT DELETED"))
        .await?
        .into_iter()
        .collect();
    uids.sort_unstable();
    let mut taken = 0;
    let source = format!("imap:{}", mb.name);
    for uid in uids {
        let fetched: Vec<_> = session
            .uid_fetch(uid.to_string(), "BODY.PEEK[]")
            .await?
            .try_collect()
            .await?;
        let Some(raw) = fetched.iter().find_map(|f| f.body().map(<[u8]>::to_vec)) else {
            continue;
        };
        match app.receive_mail(&raw, &source).await {
            Ok(Receipt::Busy) => continue,
            Ok(receipt) => {
                tracing::info!(mailbox = %mb.name, uid, %receipt, "mail taken in");
                mark_taken(session, mb, uid).await?;
                taken += 1;
            }
            Err(e) => {
                // Left in the folder, untaken: the next round tries again.
                tracing::error!(mailbox = %mb.name, uid, error = %e, "taking a message in failed");
                return Err(e.into());
            }
        }
    }
    Ok(taken)
}

async fn mark_taken(
    session: &mut async_imap::Session<Conn>,
    mb: &ImapMailbox,
    uid: u32,
) -> Result<(), ImapError> {
    let _: Vec<_> = session
        .uid_store(uid.to_string(), format!("+FLAGS.SILENT (\\Seen {TAKEN})"))
        .await?
        .try_collect()
        .await?;
    if let Some(done) = &mb.done_folder {
        session.uid_mv(uid.to_string(), done).await?;
    }
    Ok(())
}

/// Signs in and takes mail until the connection fails.
async fn run_session(app: &App, mb: &ImapMailbox) -> Result<(), ImapError> {
    let mut session = connect(mb).await?;
    if let Some(done) = &mb.done_folder {
        // It may exist already; a real failure shows on the first move.
        let _ = session.create(done).await;
    }
    let idle = mb.idle && session.capabilities().await?.has_str("IDLE");
    tracing::info!(mailbox = %mb.name, folder = %mb.folder, idle, "taking mail from IMAP");
    loop {
        take_new(app, &mut session, mb).await?;
        if idle {
            let mut handle = session.idle();
            handle.init().await?;
            let (wait, _stop) = handle.wait_with_timeout(mb.poll);
            wait.await?;
            session = handle.done().await?;
        } else {
            tokio::time::sleep(mb.poll).await;
        }
    }
}

/// Takes mail from each mailbox for as long as the process lives, reconnecting after a
/// failure (after 5 seconds, then longer, at most 5 minutes).
pub fn spawn_pollers(app: App, mailboxes: Vec<ImapMailbox>) {
    for mb in mailboxes {
        let app = app.clone();
        tokio::spawn(async move {
            let first = Duration::from_secs(5);
            let mut wait = first;
            loop {
                let started = tokio::time::Instant::now();
                if let Err(e) = run_session(&app, &mb).await {
                    // A session that ran a while failed afresh: start the waits over.
                    if started.elapsed() > Duration::from_secs(60) {
                        wait = first;
                    }
                    tracing::warn!(mailbox = %mb.name, error = %e, retry_in = ?wait, "IMAP mailbox");
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(300));
            }
        });
    }
}
