//! The supervisor and administrator pages: unit load and bulk reassignment, users, units
//! and passwords.

use crate::both_stores;
use crate::harness::*;
use crate::pages::{browser, csrf, logged_in, page, post};
use redress_domain::Role;
use serde_json::Value;

both_stores!(
    supervisors_see_unit_load_and_reassign_in_bulk,
    async |app: &TestApp| {
        let mut refs = Vec::new();
        for days_ago in [0i64, 1, 5, 40] {
            app.clock.set(
                "2026-03-09T14:30:00Z".parse::<jiff::Timestamp>().unwrap()
                    - jiff::SignedDuration::from_hours(24 * days_ago),
            );
            let mut body = minimal_body();
            body["unit"] = serde_json::json!("CALL");
            refs.push(
                app.create_case(&body).await["reference"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        app.clock.set("2026-03-09T14:30:00Z".parse().unwrap());
        let b = logged_in(app, "supervisor").await;
        let (status, html) = page(&b, app, "/supervisor").await;
        assert_eq!(status, 200);
        // Call Center: 4 open, 1 new today, aging 2 / 1 / 0 / 1.
        assert!(html.contains("<th scope=\"row\"><a href=\"/supervisor/cases?unit=CALL\">Call Center</a> · <a href=\"/cases?unit=CALL\">list</a></th><td>4</td><td>1</td><td>2</td><td>1</td><td>0</td><td>1</td>"), "{html}");
        assert!(html.contains("<svg role=\"img\""));
        let (_, html) = page(&b, app, "/supervisor/cases?unit=CALL").await;
        let token = csrf(&html);
        for r in &refs {
            assert!(html.contains(&format!("id=\"sel-{r}\"")));
        }
        let r = b
            .post(app.url("/supervisor/reassign"))
            .form(&[
                ("csrf", token.as_str()),
                ("from_unit", "CALL"),
                ("unit", "HOTLINE"),
                ("assignee", "agent"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "nothing selected");
        let r = b
            .post(app.url("/supervisor/reassign"))
            .form(&[
                ("csrf", token.as_str()),
                ("from_unit", "CALL"),
                ("case", &refs[0]),
                ("case", &refs[3]),
                ("unit", "HOTLINE"),
                ("assignee", "agent"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let (_, html) = page(&b, app, r.headers()["location"].to_str().unwrap()).await;
        assert!(html.contains("2 cases were reassigned."));
        for r in [&refs[0], &refs[3]] {
            let c: Value = app
                .get(Role::Agent, &format!("/api/v1/cases/{r}"))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(
                (c["unit"].as_str(), c["assignee"].as_str()),
                (Some("HOTLINE"), Some("agent"))
            );
        }
        // Agents may not supervise.
        let agent = logged_in(app, "agent").await;
        assert_eq!(page(&agent, app, "/supervisor").await.0, 403);
    }
);

both_stores!(
    admins_add_users_and_units_and_people_change_passwords,
    async |app: &TestApp| {
        let b = logged_in(app, "admin").await;
        let (status, html) = page(&b, app, "/admin").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Scheduled work") && html.contains("0 waiting, 0 done, 0 dead."),
            "{html}"
        );
        let token = csrf(&html);
        let r = b
            .post(app.url("/admin/users"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", "Bad Name"),
                ("role", "agent"),
                ("password", "short"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("href=\"#username\"") && html.contains("href=\"#password\""));
        let r = b
            .post(app.url("/admin/users"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", "rosa"),
                ("display_name", "Rosa M"),
                ("role", "agent"),
                ("user_unit", "CALL"),
                ("password", "a long enough password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = b
            .post(app.url("/admin/users"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", "rosa"),
                ("role", "agent"),
                ("password", "a long enough password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let r = b
            .post(app.url("/admin/units"))
            .form(&[
                ("csrf", token.as_str()),
                ("code", "eru"),
                ("name", "Expedited Resolution"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let units: Vec<Value> = app
            .get(Role::Admin, "/api/v1/units")
            .await
            .json()
            .await
            .unwrap();
        assert!(units.iter().any(|u| u["code"] == "ERU"));
        let r = b
            .post(app.url("/admin/units"))
            .form(&[("code", "X"), ("name", "No token")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // Rosa logs in and changes her password.
        let rosa = browser();
        let (_, html) = page(&rosa, app, "/login").await;
        let t = csrf(&html);
        let r = post(
            &rosa,
            app,
            "/login",
            &[
                ("csrf", &t),
                ("username", "rosa"),
                ("password", "a long enough password"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let (_, html) = page(&rosa, app, "/account").await;
        let t = csrf(&html);
        let r = post(
            &rosa,
            app,
            "/account/password",
            &[
                ("csrf", &t),
                ("current_password", "wrong one entirely"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let r = post(
            &rosa,
            app,
            "/account/password",
            &[
                ("csrf", &t),
                ("current_password", "a long enough password"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a different one here"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        // Rosa is also signed in elsewhere (a shared terminal, a stolen cookie).
        let elsewhere = browser();
        let (_, html) = page(&elsewhere, app, "/login").await;
        let lt = csrf(&html);
        let r = post(
            &elsewhere,
            app,
            "/login",
            &[
                ("csrf", &lt),
                ("username", "rosa"),
                ("password", "a long enough password"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(page(&elsewhere, app, "/account").await.0, 200);
        let old_cookie = app.count("sessions").await;
        assert!(old_cookie >= 2);
        let r = post(
            &rosa,
            app,
            "/account/password",
            &[
                ("csrf", &t),
                ("current_password", "a long enough password"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        // The new password ends every other session, and this one is replaced by a new one.
        assert!(
            r.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .starts_with("redress_session=")
        );
        let r = elsewhere.get(app.url("/account")).send().await.unwrap();
        assert_eq!(r.status(), 303, "the other session ended");
        assert_eq!(r.headers()["location"], "/login");
        assert_eq!(
            page(&rosa, app, "/account").await.0,
            200,
            "still signed in here"
        );
        let login = |p: &'static str| {
            app.client
                .post(app.url("/api/v1/session"))
                .json(&serde_json::json!({"username": "rosa", "password": p}))
                .send()
        };
        assert_eq!(login("a long enough password").await.unwrap().status(), 401);
        assert_eq!(login("a brand new passphrase").await.unwrap().status(), 200);
        // Only admins administer.
        let sup = logged_in(app, "supervisor").await;
        assert_eq!(page(&sup, app, "/admin").await.0, 403);
    }
);
