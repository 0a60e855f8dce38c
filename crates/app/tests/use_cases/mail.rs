//! Incoming mail through the one intake use case, with a corpus of messages written as fixtures
//! (`tests/mail/corpus/*.eml`): each ends where it should, none crashes; replies thread; automatic mail is
//! never answered; a bounce marks what it returns; a message is taken in once.

use super::*;
use redress_app::correspondence::Receipt;
use redress_domain::correspondence::message_id_for;
use redress_domain::{Channel, EntryType, Language, Visibility};
use redress_store::{Claim, InboundClaim, QueuedMail};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/mail/corpus")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn with(raw: Vec<u8>, pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut text = String::from_utf8(raw).expect("fixture text");
    for (from, to) in pairs {
        text = text.replace(from, to);
    }
    text.into_bytes()
}

/// The next queued message, named as the sender would name it.
async fn next_mail(o: &TestOffice) -> Option<(QueuedMail, String)> {
    let now = o.clock.now();
    let job = o
        .app
        .store
        .claim_mail(now, now + SignedDuration::from_mins(5), 10)
        .await
        .expect("claim")?;
    let id = message_id_for(job.id, job.mail.reference.as_deref(), "office.example.gov");
    let bare = id.trim_matches(['<', '>']).to_string();
    o.app.store.name_mail(job.id, &bare).await.expect("name");
    o.app.store.mail_sent(job.id, now).await.expect("sent");
    Some((job, bare))
}

async fn receive(o: &TestOffice, raw: &[u8]) -> Receipt {
    o.app.receive_mail(raw, "pipe").await.expect("taken in")
}

fn opened(r: Receipt) -> String {
    match r {
        Receipt::Opened(reference) => reference,
        other => panic!("expected a new case, got {other:?}"),
    }
}

async fn supervisor(o: &TestOffice) -> Person {
    let user = o
        .app
        .create_user(
            &Actor::system(),
            NewUserInput {
                username: Some("sue".into()),
                display_name: None,
                role: Role::Supervisor,
                unit: Some("CALL".into()),
                company_id: None,
                password: Some(PASSWORD.into()),
                email: None,
            },
        )
        .await
        .expect("supervisor");
    Person::new(user)
}

#[tokio::test]
async fn every_message_of_the_corpus_ends_where_it_should() {
    for postgres in [false, true] {
        let mut o = TestOffice::open(postgres).await;
        o.app.settings.max_upload_bytes = 4096;
        o.app.settings.mail.max_message_bytes = 64 * 1024;
        o.app.settings.mail.own_addresses = vec!["no-reply@office.example.gov".into()];
        let sue = supervisor(&o).await;

        // A Spanish complaint, multipart/alternative, quoted-printable, ISO-8859-1 subject.
        let maria = opened(receive(&o, &fixture("multipart_alternative_es.eml")).await);
        let case = o.app.read_case(&o.agent, &maria).await.expect("case");
        assert_eq!(case.channel, Channel::Email);
        let consumer = case.consumer.clone().expect("consumer");
        assert_eq!(consumer.email.as_deref(), Some("maria.lopez@example.com"));
        assert_eq!(consumer.name, "Maria Lopez");
        assert_eq!(consumer.preferred_language, Language::Es);
        assert!(
            case.description
                .starts_with("Corte de luz programado mañana\n\nHola, la compañía de luz"),
            "{}",
            case.description
        );
        // Acknowledged in Spanish, answering the message, marked automatic.
        let (ack, ack_id) = next_mail(&o).await.expect("acknowledgement");
        assert_eq!(ack.mail.recipient, "maria.lopez@example.com");
        assert!(
            ack.mail.subject.starts_with("Recibimos su queja"),
            "{}",
            ack.mail.subject
        );
        assert!(ack.mail.subject.contains(&maria));
        assert!(
            ack.mail.body.contains("Estimado/a Maria Lopez"),
            "{}",
            ack.mail.body
        );
        assert!(
            ack.mail.body.contains("/portal/status/"),
            "{}",
            ack.mail.body
        );
        assert_eq!(
            ack.mail.in_reply_to.as_deref(),
            Some("first-es@example.com")
        );
        assert!(ack.mail.automatic);

        // The same Message-ID again is stored once.
        assert_eq!(
            receive(&o, &fixture("multipart_alternative_es.eml")).await,
            Receipt::Duplicate
        );

        // Her reply (base64) threads by In-Reply-To, visible to her.
        let reply = with(fixture("reply_base64.eml"), &[("ACK_ID", &ack_id)]);
        assert_eq!(receive(&o, &reply).await, Receipt::Threaded(maria.clone()));
        let timeline = o
            .app
            .timeline(&o.agent, &maria, None)
            .await
            .expect("timeline");
        let last = timeline
            .iter()
            .rev()
            .find(|e| e.entry_type == EntryType::Email)
            .expect("email entry");
        assert!(last.body.contains("Les envío la factura"), "{}", last.body);
        assert_eq!(last.visibility, Visibility::Consumer);
        assert_eq!(last.data["direction"], "in");

        // Someone else writing with the reference in the subject threads too, kept internal.
        let other = format!(
            "From: Neighbor <nb@example.com>\r\nTo: complaints@office.example.gov\r\nSubject: About [{maria}]\r\nMessage-ID: <by-subject@example.com>\r\n\r\nI live next door and saw the notice.\r\n"
        );
        assert_eq!(
            receive(&o, other.as_bytes()).await,
            Receipt::Threaded(maria.clone())
        );
        let timeline = o
            .app
            .timeline(&o.agent, &maria, None)
            .await
            .expect("timeline");
        let neighbor = timeline.last().expect("entry");
        assert_eq!(neighbor.visibility, Visibility::Internal);

        // Her out-of-office answer is kept on the case and answered by nothing.
        let ooo = with(fixture("out_of_office.eml"), &[("ACK_ID", &ack_id)]);
        assert_eq!(
            receive(&o, &ooo).await,
            Receipt::Automatic(Some(maria.clone()))
        );
        assert!(
            next_mail(&o).await.is_none(),
            "an automatic reply is never answered"
        );
        // One about no case opens nothing.
        let before = case_count(&o).await;
        assert!(matches!(
            receive(&o, &fixture("out_of_office_stray.eml")).await,
            Receipt::Ignored(_)
        ));
        assert_eq!(case_count(&o).await, before);
        assert!(next_mail(&o).await.is_none());

        // A bounce of the acknowledgement marks it failed on the case.
        let bounce = with(
            fixture("bounce.eml"),
            &[
                ("ORIGINAL_ID", &ack_id),
                ("ORIGINAL_RECIPIENT", "maria.lopez@example.com"),
            ],
        );
        assert_eq!(
            receive(&o, &bounce).await,
            Receipt::Bounce(Some(maria.clone()))
        );
        let timeline = o
            .app
            .timeline(&o.agent, &maria, None)
            .await
            .expect("timeline");
        let failed = timeline.last().expect("entry");
        assert_eq!(failed.data["event"], "email_bounced");
        assert!(failed.body.contains("5.1.1"), "{}", failed.body);
        assert!(next_mail(&o).await.is_none(), "a bounce is never answered");

        // UTF-8 encoded subject and sender.
        let jose = opened(receive(&o, &fixture("utf8_subject.eml")).await);
        let case = o.app.read_case(&o.agent, &jose).await.expect("case");
        assert!(
            case.description
                .starts_with("Factura de agua — ¡demasiado alta!")
        );
        assert_eq!(case.consumer.expect("consumer").name, "José García");
        let (ack, _) = next_mail(&o).await.expect("acknowledgement");
        assert!(
            ack.mail.subject.starts_with("We received your complaint"),
            "English text: {}",
            ack.mail.subject
        );

        // A forwarded message's text is kept with the case.
        let sam = opened(receive(&o, &fixture("nested_rfc822.eml")).await);
        let case = o.app.read_case(&o.agent, &sam).await.expect("case");
        assert!(
            case.description.contains("the charges are correct"),
            "{}",
            case.description
        );
        assert!(next_mail(&o).await.is_some());

        // An HTML-only body is stored as text, without markup or script.
        let lee = opened(receive(&o, &fixture("html_only.eml")).await);
        let case = o.app.read_case(&o.agent, &lee).await.expect("case");
        assert!(
            case.description.contains("out for two weeks"),
            "{}",
            case.description
        );
        assert!(!case.description.contains('<'), "{}", case.description);
        assert!(!case.description.contains("alert("), "{}", case.description);
        assert!(next_mail(&o).await.is_some());

        // Attachments go through the upload checks: the PDF is kept, the program is not, nor a
        // file over the upload limit.
        let big = "A".repeat(8000);
        let oversized = with(
            fixture("attachments.eml"),
            &[(
                "--b1--",
                &format!(
                    "--b1\r\nContent-Type: text/plain; name=\"log.txt\"\r\nContent-Disposition: attachment; filename=\"log.txt\"\r\n\r\n{big}\r\n--b1--"
                ),
            )],
        );
        let dana = opened(receive(&o, &oversized).await);
        let files = o.app.attachments(&o.agent, &dana).await.expect("files");
        let names: Vec<&str> = files.iter().map(|f| f.filename.as_str()).collect();
        let timeline = o
            .app
            .timeline(&o.agent, &dana, None)
            .await
            .expect("timeline");
        assert_eq!(names, vec!["bill.pdf"], "{timeline:#?}");
        let timeline = o
            .app
            .timeline(&o.agent, &dana, None)
            .await
            .expect("timeline");
        let email = timeline
            .iter()
            .find(|e| e.entry_type == EntryType::Email)
            .expect("email");
        assert!(
            email.body.contains("Attachment not kept: setup.exe"),
            "{}",
            email.body
        );
        assert!(
            email.body.contains("Attachment not kept: log.txt"),
            "{}",
            email.body
        );
        assert!(next_mail(&o).await.is_some());

        // A truncated message and an unknown charset give what can be read.
        let kim = opened(receive(&o, &fixture("truncated.eml")).await);
        let case = o.app.read_case(&o.agent, &kim).await.expect("case");
        assert!(
            case.description.contains("charged for gas"),
            "{}",
            case.description
        );
        let pat = opened(receive(&o, &fixture("unknown_charset.eml")).await);
        let case = o.app.read_case(&o.agent, &pat).await.expect("case");
        assert!(
            case.description.contains("electricity rates"),
            "{}",
            case.description
        );
        while next_mail(&o).await.is_some() {}

        // No sender, not a message, too large: quarantined with the reason, never dropped.
        let before = case_count(&o).await;
        assert!(
            matches!(receive(&o, &fixture("no_sender.eml")).await, Receipt::Quarantined(r) if r.contains("sender"))
        );
        assert!(matches!(
            receive(&o, &fixture("garbage.eml")).await,
            Receipt::Quarantined(_)
        ));
        let huge = format!(
            "From: a@example.com\r\nSubject: scan\r\nMessage-ID: <huge@example.com>\r\n\r\n{}",
            "x".repeat(70 * 1024)
        );
        assert!(
            matches!(receive(&o, huge.as_bytes()).await, Receipt::Quarantined(r) if r.contains("larger"))
        );
        assert_eq!(case_count(&o).await, before);
        assert!(next_mail(&o).await.is_none());

        // Mail from the office's own address never opens a case.
        let own = "From: no-reply@office.example.gov\r\nSubject: loop\r\nMessage-ID: <own@office.example.gov>\r\n\r\nx\r\n";
        assert!(matches!(
            receive(&o, own.as_bytes()).await,
            Receipt::Ignored(_)
        ));

        // The mail page: quarantined and unmatched messages wait for a person.
        assert!(matches!(
            o.app.inbound_mail(&o.agent, false).await,
            Err(AppError::Forbidden)
        ));
        let waiting = o.app.inbound_mail(&sue, false).await.expect("waiting");
        assert_eq!(waiting.len(), 3, "{waiting:?}");
        assert!(waiting.iter().all(|m| m.state == "quarantined"));
        let huge_id = waiting
            .iter()
            .find(|m| m.message_id == "huge@example.com")
            .expect("huge")
            .id;
        assert!(matches!(
            o.app.file_inbound(&sue, huge_id, &maria).await,
            Err(AppError::Validation(_))
        ));
        o.app.dismiss_inbound(&sue, huge_id).await.expect("dismiss");
        let no_sender = waiting
            .iter()
            .find(|m| m.subject == "no sender at all")
            .expect("no sender")
            .id;
        o.app
            .file_inbound(&sue, no_sender, &maria)
            .await
            .expect("file");
        let timeline = o
            .app
            .timeline(&o.agent, &maria, None)
            .await
            .expect("timeline");
        assert!(
            timeline
                .last()
                .expect("entry")
                .body
                .contains("Who wrote this?")
        );
        assert_eq!(o.app.inbound_waiting(&sue).await.expect("count"), 1);
        o.close().await;
    }
}

#[tokio::test]
async fn a_message_taken_in_again_after_a_stop_opens_no_second_case() {
    for postgres in [false, true] {
        let o = TestOffice::open(postgres).await;
        let raw = fixture("utf8_subject.eml");
        // Another process holds the message: try again later.
        let now = o.clock.now();
        let claim = InboundClaim {
            message_id: "utf8-subject@example.org".into(),
            source: "pipe".into(),
            sender: "jose@example.org".into(),
            class: "personal".into(),
            ..InboundClaim::default()
        };
        let Claim::Taken { id, .. } = o
            .app
            .store
            .claim_inbound(&claim, now, now + SignedDuration::from_mins(10))
            .await
            .expect("claim")
        else {
            panic!("claimed");
        };
        assert_eq!(receive(&o, &raw).await, Receipt::Busy);
        // It stopped after opening the case; once its lease runs out the message is taken in
        // again, onto the same case.
        let input: CreateCase = serde_json::from_value(serde_json::json!({
            "kind": "complaint", "channel": "email", "description": "Factura de agua",
            "consumer": {"name": "José García", "email": "jose@example.org"},
        }))
        .expect("input");
        let (case, _) = o
            .app
            .open_case(Intake::Mail { inbound: id }, input, None)
            .await
            .expect("case");
        o.clock.set(now + SignedDuration::from_mins(11));
        assert_eq!(
            receive(&o, &raw).await,
            Receipt::Opened(case.reference.clone())
        );
        assert_eq!(case_count(&o).await, 1);
        assert_eq!(receive(&o, &raw).await, Receipt::Duplicate);
        o.close().await;
    }
}

#[tokio::test]
async fn staff_intake_with_an_address_is_acknowledged_in_the_consumers_language() {
    for postgres in [false, true] {
        let o = TestOffice::open(postgres).await;
        let mut input = complaint();
        input.consumer.as_mut().expect("consumer").email = Some("rosa@example.com".into());
        let (case, _) = o
            .app
            .open_case(Intake::Staff(&o.agent), input, None)
            .await
            .expect("case");
        let (ack, id) = next_mail(&o).await.expect("acknowledgement");
        assert_eq!(ack.mail.recipient, "rosa@example.com");
        assert!(ack.mail.subject.contains(&case.reference));
        assert!(
            ack.mail.body.starts_with("Estimado/a Rosa Díaz"),
            "{}",
            ack.mail.body
        );
        assert!(ack.mail.automatic);
        assert!(ack.mail.in_reply_to.is_none());
        // Her answer threads by the acknowledgement's Message-ID.
        let answer = format!(
            "From: rosa@example.com\r\nSubject: Re: {}\r\nIn-Reply-To: <{id}>\r\nMessage-ID: <rosa-1@example.com>\r\n\r\nGracias.\r\n",
            ack.mail.subject
        );
        assert_eq!(
            receive(&o, answer.as_bytes()).await,
            Receipt::Threaded(case.reference.clone())
        );
        // A case without an address gets nothing.
        o.open_complaint().await;
        assert!(next_mail(&o).await.is_none());
        // Staff answer from the case: the reply threads on her message.
        o.app
            .email_consumer(
                &o.agent,
                &case.reference,
                redress_app::correspondence::EmailToConsumer {
                    subject: None,
                    body: "Recibimos su factura.".into(),
                },
            )
            .await
            .expect("sent");
        let (reply, _) = next_mail(&o).await.expect("reply");
        assert_eq!(
            reply.mail.in_reply_to.as_deref(),
            Some("rosa-1@example.com")
        );
        assert!(
            reply.mail.subject.starts_with("Re: "),
            "{}",
            reply.mail.subject
        );
        assert!(reply.mail.subject.contains(&case.reference));
        assert!(!reply.mail.automatic);
        o.close().await;
    }
}
