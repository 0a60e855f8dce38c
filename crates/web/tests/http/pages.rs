//! The pages, driven like a browser without JavaScript: forms, CSRF tokens, cookies, errors
//! next to fields, both languages, and nothing stored when a form is refused.
//!
//! The helpers below are shared with the `pages_*` files; the tests here are signing in.

use crate::both_stores;
use crate::harness::*;
use redress_domain::Role;
use serde_json::Value;

pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the hidden `csrf` field in a page.
pub(crate) fn csrf(html: &str) -> String {
    let at =
        html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

pub(crate) async fn page(b: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = b.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub(crate) async fn post(
    b: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    b.post(app.url(path)).form(form).send().await.unwrap()
}

pub(crate) async fn logged_in(app: &TestApp, user: &str) -> reqwest::Client {
    let b = browser();
    let (_, html) = page(&b, app, "/login").await;
    let token = csrf(&html);
    let r = post(
        &b,
        app,
        "/login",
        &[("csrf", &token), ("username", user), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), 303, "login as {user}");
    b
}

both_stores!(
    login_form_needs_its_token_and_right_password,
    async |app: &TestApp| {
        let b = browser();
        let r = b.get(app.url("/")).send().await.unwrap();
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["location"].to_str().unwrap()
            ),
            (303, "/login")
        );
        let (status, html) = page(&b, app, "/login").await;
        assert_eq!(status, 200);
        assert!(html.contains("<html lang=\"en\"") && html.contains("<label for=\"password\">"));
        let token = csrf(&html);
        let r = post(
            &b,
            app,
            "/login",
            &[("username", "agent"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(r.status(), 403, "no token, no session");
        let r = post(
            &b,
            app,
            "/login",
            &[
                ("csrf", &token),
                ("username", "agent"),
                ("password", "not the password"),
            ],
        )
        .await;
        assert_eq!(r.status(), 401);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Wrong username or password.")
        );
        let r = post(
            &b,
            app,
            "/login",
            &[
                ("csrf", &token),
                ("username", "agent"),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["location"].to_str().unwrap()
            ),
            (303, "/")
        );
        let (status, home) = page(&b, app, "/").await;
        assert_eq!(status, 200);
        assert!(home.contains("Hello, Test agent"));
        // Spanish, chosen once and remembered.
        let (_, es) = page(&b, app, "/?lang=es").await;
        assert!(es.contains("<html lang=\"es\"") && es.contains("Hola, Test agent"));
        let (_, still) = page(&b, app, "/").await;
        assert!(still.contains("Mi trabajo"));
        let (_, help) = page(&b, app, "/help?lang=en").await;
        assert!(help.contains("Keyboard shortcuts") && help.contains("<kbd>/</kbd>"));
    }
);

both_stores!(
    two_step_login_with_a_one_time_code,
    async |app: &TestApp| {
        use redress_domain::totp;
        let b = logged_in(app, "agent").await;
        let (_, html) = page(&b, app, "/account").await;
        assert!(html.contains("Two-step login is off"));
        // The set-up is on the page, not in the window's title (where the secret would show).
        let title =
            &html[html.find("<title>").unwrap() + "<title>".len()..html.find("</title>").unwrap()];
        assert!(!title.contains('<') && title.len() < 80, "{title}");
        let body = &html[html.find("<main").unwrap()..];
        assert!(
            body.contains("name=\"secret\""),
            "the set-up form is in the page body"
        );
        let token = csrf(&html);
        let at = html.find("name=\"secret\" value=\"").unwrap() + "name=\"secret\" value=\"".len();
        let secret = html[at..].split('"').next().unwrap().to_string();
        let key = totp::base32_decode(&secret).unwrap();
        let now = || app.clock.now_ts().as_second();
        let code = |t: i64| format!("{:06}", totp::code_at_step(&key, totp::step_of(t)));
        let r = post(
            &b,
            app,
            "/account/totp/on",
            &[
                ("csrf", &token),
                ("secret", &secret),
                ("totp_code", "000000"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = post(
            &b,
            app,
            "/account/totp/on",
            &[
                ("csrf", &token),
                ("secret", &secret),
                ("totp_code", &code(now())),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let (_, html) = page(&b, app, "/account?totp=on").await;
        assert!(html.contains("Two-step login is now on."));

        let login = |c: Option<String>| {
            app.client
                .post(app.url("/api/v1/session"))
                .json(&serde_json::json!({"username": "agent", "password": PASSWORD, "code": c}))
                .send()
        };
        let r = login(None).await.unwrap();
        assert_eq!(r.status(), 401);
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "second_factor_required");
        assert_eq!(
            login(Some(code(now()))).await.unwrap().status(),
            401,
            "the code that turned it on is spent"
        );
        app.clock.advance(jiff::SignedDuration::from_secs(30));
        assert_eq!(login(Some(code(now()))).await.unwrap().status(), 200);
        assert_eq!(
            login(Some(code(now()))).await.unwrap().status(),
            401,
            "a code works once"
        );
        // The login page asks for it too.
        app.clock.advance(jiff::SignedDuration::from_secs(30));
        let fresh = browser();
        let (_, html) = page(&fresh, app, "/login").await;
        let t = csrf(&html);
        let r = post(
            &fresh,
            app,
            "/login",
            &[("csrf", &t), ("username", "agent"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(r.status(), 401);
        assert!(r.text().await.unwrap().contains("Enter the current code"));
        let r = post(
            &fresh,
            app,
            "/login",
            &[
                ("csrf", &t),
                ("username", "agent"),
                ("password", PASSWORD),
                ("code", &code(now())),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        // Turning it off needs the password.
        let (_, html) = page(&fresh, app, "/account").await;
        let t = csrf(&html);
        assert_eq!(
            post(
                &fresh,
                app,
                "/account/totp/off",
                &[("csrf", &t), ("totp_password", "not my password")]
            )
            .await
            .status(),
            422
        );
        assert_eq!(
            post(
                &fresh,
                app,
                "/account/totp/off",
                &[("csrf", &t), ("totp_password", PASSWORD)]
            )
            .await
            .status(),
            303
        );
        assert_eq!(login(None).await.unwrap().status(), 200);
    }
);

both_stores!(tls_headers_and_download_policy, async |app: &TestApp| {
    // Behind a TLS proxy, the pre-login form cookie is Secure.
    let r = app
        .client
        .get(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("redress_form=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    assert!(
        r.headers().get("strict-transport-security").is_none(),
        "not configured for TLS"
    );
    // Served over TLS (secure_cookies): HSTS on every response.
    let mut state = app.state.clone();
    state.http.secure_cookies = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(redress_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let r = app
        .client
        .get(format!("http://{addr}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let _ = stop.send(());
    let _ = server.await;
    // An attachment keeps its own sandboxing policy.
    let c = app.create_case(&minimal_body()).await;
    let reference = c["reference"].as_str().unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"plain words".to_vec())
            .file_name("note.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    let r = app
        .req(
            Role::Agent,
            reqwest::Method::POST,
            &format!("/api/v1/cases/{reference}/attachments"),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 201, "{body}");
    let a: Value = serde_json::from_str(&body).unwrap();
    let r = app
        .get(
            Role::Agent,
            &format!("/api/v1/cases/{reference}/attachments/{}", a["id"]),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-security-policy"],
        "default-src 'none'; sandbox"
    );
});
