//! Mail through the outbox: queued with the change that causes it, readable by
//! staff, delivered over SMTP (a real listener on loopback) once by two senders,
//! at least once across a crash (the copy with the same `Message-ID`), and kept
//! when no server is configured.

use std::sync::{Arc, Mutex};

use rocket::http::Status;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::consent_flow::{invite, recruiting_study};
use super::helpers::TestDb;
use crate::mail::sender::{Delivery, attempt, claim_next, deliver_due};

/// A minimal SMTP server that accepts everything and keeps each message's data.
pub(super) async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ready\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_uppercase();
                    if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 go on\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        store.lock().expect("lock").push(data);
                        let _ = write.write_all(b"250 queued\r\n").await;
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        let _ = write.write_all(b"250 ok\r\n").await;
                    }
                }
            });
        }
    });
    (port, received)
}

fn keys(app: &super::helpers::TestApp) -> &crate::keys::Keys {
    app.state().keys().expect("the test app has keys")
}

db_test!(mail_is_queued_and_readable_by_staff, |app| {
    let s = recruiting_study(&app).await;
    let p = invite(&app, &s, "p1@student.example.edu").await;
    let (_, form) = app.get_json("/api/v1/participant/consent-form", Some(&p)).await;
    let body = json!({
        "version": "1", "form_hash": form["form_hash"], "read_confirmed": true,
        "items": {"read_statement": true, "audio_recording": true}, "signature": {"typed_name": "Pat Example"},
    });
    app.post_json("/api/v1/participant/consent", Some(&p), body).await;
    app.post_json("/api/v1/participant/withdraw", Some(&p), json!({"scope": "future_only"})).await;

    let (status, mail) = app.get_json("/api/v1/outbox", Some(&s.coord)).await;
    assert_eq!(status, Status::Ok);
    let kinds: Vec<_> =
        mail.as_array().into_iter().flatten().filter_map(|m| m["kind"].as_str()).collect();
    assert_eq!(kinds, ["withdrawal", "consent_receipt", "invitation"], "newest first");
    assert!(
        mail[2]["body"].as_str().unwrap_or("").contains("[private link]"),
        "staff see that the invitation carries a link, not the link"
    );
    assert!(
        app.mailbox().await[2].body.contains(&format!("/p/{p}")),
        "the participant gets the link"
    );
    assert_eq!(mail[1]["attachment"], "consent-study-one-P001.pdf");
    assert!(mail[1]["body"].as_str().unwrap_or("").contains("CF15/2639-2015001090"));
    assert_eq!(mail[0]["status"], "queued");

    assert_eq!(app.get_json("/api/v1/outbox", Some(&s.fac)).await.0, Status::Forbidden);
    assert_eq!(app.get_json("/api/v1/outbox", Some(&s.ethics)).await.0, Status::Forbidden);
    let other = app.staff("other@example.org", "coordinator").await;
    assert_eq!(
        app.get_json("/api/v1/outbox", Some(&other)).await.1,
        json!([]),
        "another study's mail is not shown"
    );
    let admin = app.staff("admin@example.org", "admin").await;
    assert_eq!(
        app.get_json("/api/v1/outbox", Some(&admin)).await.1.as_array().map(Vec::len),
        Some(3)
    );

    // Without an SMTP server the sender keeps the mail in the outbox.
    assert_eq!(deliver_due(&app.db, keys(&app), &Delivery::Keep).await.expect("pass"), 3);
    let (_, mail) = app.get_json("/api/v1/outbox", Some(&admin)).await;
    assert!(mail.as_array().into_iter().flatten().all(|m| m["status"] == "kept"), "{mail}");
    assert_eq!(
        deliver_due(&app.db, keys(&app), &Delivery::Keep).await.expect("pass"),
        0,
        "nothing is handled twice"
    );
});

db_test!(smtp_delivery_happens_once_with_two_senders, |app| {
    let s = recruiting_study(&app).await;
    for i in 0..6 {
        invite(&app, &s, &format!("p{i}@student.example.edu")).await;
    }
    let (port, received) = smtp_sink().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let first =
        Delivery::from_config(Some(&url), "Study team <research@example.edu>").expect("config");
    let second =
        Delivery::from_config(Some(&url), "Study team <research@example.edu>").expect("config");
    let other_pool = app.test_db.connect().await;
    let (a, b) = tokio::join!(
        deliver_due(&app.db, keys(&app), &first),
        deliver_due(&other_pool, keys(&app), &second)
    );
    assert_eq!(
        a.expect("first sender") + b.expect("second sender"),
        6,
        "each message claimed by one sender"
    );
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 6, "six messages, none twice");
    assert!(got.iter().all(|m| m.contains("Subject: Your link for the study")));
    let mut recipients: Vec<String> = got
        .iter()
        .filter_map(|m| m.lines().find(|l| l.starts_with("To: ")).map(str::to_string))
        .collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 6);
    let admin = app.staff("admin@example.org", "admin").await;
    let (_, mail) = app.get_json("/api/v1/outbox", Some(&admin)).await;
    assert!(
        mail.as_array()
            .into_iter()
            .flatten()
            .all(|m| m["status"] == "sent" && m["sent_at"].is_string()),
        "{mail}"
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_server_means_a_retry_later() {
    let Some(test_db) = TestDb::new(super::helpers::Backend::Sqlite).await else { return };
    let db = test_db.connect().await;
    let test_keys = crate::keys::Keys::derive("a test key of at least thirty-two bytes");
    let message = crate::domain::mail::Message {
        study_id: None,
        kind: "invitation",
        to: "someone@example.org".into(),
        subject: "Hello".into(),
        body: "Body".into(),
        attachment: None,
        secrets: Vec::new(),
    };
    let tx = db.begin_write().await.expect("tx");
    crate::mail::enqueue(tx.conn(), &test_keys, &message).await.expect("enqueue");
    tx.commit().await.expect("commit");
    // Nothing listens on this port: the attempt fails and is scheduled again.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let delivery =
        Delivery::from_config(Some(&format!("smtp://127.0.0.1:{port}")), "a@example.org")
            .expect("config");
    assert_eq!(deliver_due(&db, &test_keys, &delivery).await.expect("pass"), 1);
    let mail = crate::store::mail::recent(db.conn(), None, 10).await.expect("read");
    assert_eq!((mail[0].status, mail[0].attempts), (crate::domain::mail::MailStatus::Queued, 1));
    assert!(mail[0].last_error.is_some());
    assert_eq!(
        deliver_due(&db, &test_keys, &delivery).await.expect("pass"),
        0,
        "not due again before its backoff"
    );
}

db_test!(a_sender_that_dies_after_sending_sends_again_with_the_same_message_id, |app| {
    let s = recruiting_study(&app).await;
    invite(&app, &s, "p1@student.example.edu").await;
    invite(&app, &s, "p2@student.example.edu").await;
    let (port, received) = smtp_sink().await;
    let delivery = Delivery::from_config(
        Some(&format!("smtp://127.0.0.1:{port}")),
        "Study team <research@example.edu>",
    )
    .expect("config");
    // A sender claims a message and sends it, then dies before recording it.
    let mail = claim_next(&app.db).await.expect("claim").expect("a due message");
    attempt(keys(&app), &delivery, &mail).await.expect("sent");
    // The crash holds back only that message.
    assert_eq!(deliver_due(&app.db, keys(&app), &delivery).await.expect("pass"), 1);
    // Its lease runs out, and another sender sends it again.
    crate::store::testing::execute(
        &app.db,
        &format!(
            "UPDATE outbox SET claimed_until = '2000-01-01 00:00:00+00:00' WHERE id = {}",
            mail.id
        ),
    )
    .await;
    assert_eq!(deliver_due(&app.db, keys(&app), &delivery).await.expect("pass"), 1);
    let got = received.lock().expect("lock").clone();
    let id_of = |m: &String| {
        m.lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .map(str::to_string)
            .expect("a Message-ID")
    };
    let to_first: Vec<&String> =
        got.iter().filter(|m| m.contains(&format!("To: {}", mail.message.to))).collect();
    assert_eq!(to_first.len(), 2, "sent twice: at least once, never lost");
    assert_eq!(id_of(to_first[0]), id_of(to_first[1]), "the copy carries the same Message-ID");
    let other =
        got.iter().find(|m| !m.contains(&format!("To: {}", mail.message.to))).expect("the other");
    assert_ne!(id_of(other), id_of(to_first[0]));
    assert!(id_of(other).ends_with("@example.edu>"), "{}", id_of(other));
    let (_, outbox) = app.get_json("/api/v1/outbox", Some(&s.coord)).await;
    assert!(outbox.as_array().into_iter().flatten().all(|m| m["status"] == "sent"), "{outbox}");
});
