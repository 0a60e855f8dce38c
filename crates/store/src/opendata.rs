//! What the office's open data file is made from: every case's public facts, with the personal
//! details the file must not carry read alongside (they are what the narrative is scrubbed of,
//! and never leave the application's de-identification).

use crate::Result;
use crate::rows::instant;
use crate::tx::{Engine, Row, args, job};
use async_trait::async_trait;
use jiff::Timestamp;

/// One page of cases after an id, in id order.
const OPEN_DATA_PAGE: &str = "SELECT c.id, c.reference, c.kind, c.channel, c.status, c.opened_at, c.closed_at, \
     c.description, c.publish_consent, c.account_number, cat.path AS category_path, \
     co.name AS company_name, co.industry AS company_industry, \
     p.name AS consumer_name, p.email, p.phone, p.address_line1, p.address_line2, p.city, p.state, p.zip, \
     (SELECT MIN(t.at) FROM timeline t WHERE t.case_id = c.id AND t.entry_type = 'letter' \
      AND t.body LIKE 'Complaint referred to %') AS sent_to_company \
     FROM cases c \
     LEFT JOIN categories cat ON cat.id = c.category_id \
     LEFT JOIN companies co ON co.id = c.company_id \
     LEFT JOIN consumers p ON p.id = c.consumer_id \
     WHERE c.id > $1 AND c.status <> 'merged' ORDER BY c.id LIMIT $2";
/// The account numbers on file for the consumers of some cases.
const ACCOUNTS_OF_CASES: &str = "SELECT c.id, a.account_number FROM cases c \
     JOIN consumer_accounts a ON a.consumer_id = c.consumer_id WHERE c.id > $1 AND c.id <= $2";

/// A case as the open data file starts from it.
#[derive(Debug, Clone)]
pub struct OpenDataCase {
    pub id: i64,
    pub reference: String,
    pub kind: String,
    pub channel: String,
    pub status: String,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub sent_to_company: Option<Timestamp>,
    pub category: Option<String>,
    pub company: Option<String>,
    pub company_industry: Option<String>,
    pub description: String,
    /// The consumer's consent to publish the description (`None`: never asked).
    pub publish_consent: Option<bool>,
    pub state: Option<String>,
    pub zip: Option<String>,
    /// The consumer's name (each of its words is scrubbed too).
    pub consumer_name: Option<String>,
    /// What the description is scrubbed of: the consumer's name, contacts, address and
    /// account numbers.
    pub personal: Vec<String>,
}

#[async_trait]
pub trait OpenData {
    /// Up to `limit` cases after id `after` (merged cases are left out: their survivor counts).
    async fn open_data_page(&self, after: i64, limit: i64) -> Result<Vec<OpenDataCase>>;
}

fn open_data_case(r: &Row) -> Result<OpenDataCase> {
    let mut personal = Vec::new();
    for col in [
        "consumer_name",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "city",
        "account_number",
    ] {
        if let Some(v) = r.opt_text(col)? {
            personal.push(v);
        }
    }
    Ok(OpenDataCase {
        id: r.int("id")?,
        reference: r.text("reference")?,
        kind: r.text("kind")?,
        channel: r.text("channel")?,
        status: r.text("status")?,
        opened_at: instant(r.int("opened_at")?)?,
        closed_at: r.opt_int("closed_at")?.map(instant).transpose()?,
        sent_to_company: r.opt_int("sent_to_company")?.map(instant).transpose()?,
        category: r.opt_text("category_path")?,
        company: r.opt_text("company_name")?,
        company_industry: r.opt_text("company_industry")?,
        description: r.text("description")?,
        publish_consent: r.opt_int("publish_consent")?.map(|v| v != 0),
        state: r.opt_text("state")?,
        zip: r.opt_text("zip")?,
        consumer_name: r.opt_text("consumer_name")?,
        personal,
    })
}

#[async_trait]
impl<E: Engine> OpenData for E {
    async fn open_data_page(&self, after: i64, limit: i64) -> Result<Vec<OpenDataCase>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx.query(OPEN_DATA_PAGE, args![after, limit]).await?;
                let mut cases = rows
                    .iter()
                    .map(open_data_case)
                    .collect::<Result<Vec<_>>>()?;
                if let Some(last) = cases.last().map(|c| c.id) {
                    let accounts = tx.query(ACCOUNTS_OF_CASES, args![after, last]).await?;
                    let mut by_case = std::collections::HashMap::<i64, Vec<String>>::new();
                    for a in &accounts {
                        by_case
                            .entry(a.int("id")?)
                            .or_default()
                            .push(a.text("account_number")?);
                    }
                    for c in &mut cases {
                        if let Some(list) = by_case.remove(&c.id) {
                            c.personal.extend(list);
                        }
                    }
                }
                Ok(cases)
            })
        }))
        .await
    }
}
